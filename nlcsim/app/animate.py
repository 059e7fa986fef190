"""``nlcsim animate``: a run as a GIF or MP4 for slides, frame by frame as the app draws it.

Each frame is the app's slide (:func:`nlcsim.app.draw.slide_figure`): the
network on the left and the four live plots on the right.  The run is the
scenario as the app would run it (one network of at most 20 schools), with
the scenario's own timed events.

>>> from nlcsim.app.animate import animate
>>> import tempfile, pathlib
>>> out = animate("baseline", pathlib.Path(tempfile.mkdtemp()) / "run.gif", weeks=2, every=1, dpi=30)
>>> out.stat().st_size > 0
True
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator, Mapping

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg

from ..model import NLCModel
from ..scenario import Scenario
from .draw import slide_figure
from .trainer import build_scenario

FORMATS = (".gif", ".mp4")
MAX_DPI = 240  # 3840 x 2160 frames: a 4K screen


def frames(scenario: Scenario, seed: int = 1, weeks: int | None = None, every: int = 3,
           dpi: int = 64) -> Iterator[np.ndarray]:
    """RGB frames of a run: week 0, then every ``every`` weeks, and the last week."""
    model = NLCModel(scenario, seed=seed)
    total = scenario.weeks if weeks is None else weeks
    subtitle = f"seed {seed}"
    for week in range(total + 1):
        if week % every == 0 or week == total:
            canvas = FigureCanvasAgg(slide_figure(model, dpi=dpi, subtitle=subtitle))
            canvas.draw()
            yield np.asarray(canvas.buffer_rgba())[..., :3].copy()
        if week < total:
            model.step()


def animate(scenario: str | Scenario, out: str | Path, seed: int = 1, weeks: int | None = None,
            overrides: Mapping | None = None, every: int = 3, fps: float = 8.0, dpi: int = 64) -> Path:
    """Write a GIF or MP4 of a run (chosen by the file's suffix); returns the path.

    At the default ``dpi`` of 64 a frame is 1024 x 576 pixels, which MP4 encoders
    take without resizing.
    """
    import imageio.v3 as iio

    out = Path(out)
    suffix = out.suffix.lower()
    if suffix not in FORMATS:
        raise ValueError(f"--out {out}: the file must end in .gif or .mp4")
    sc = build_scenario(scenario, overrides)
    out.parent.mkdir(parents=True, exist_ok=True)
    images = frames(sc, seed=seed, weeks=weeks, every=max(1, every), dpi=dpi)
    if suffix == ".gif":
        # GIF frame times are in milliseconds; loop=0 repeats for ever on a slide.
        iio.imwrite(out, list(images), extension=".gif", duration=int(1000 / fps), loop=0)
    else:
        import imageio.v2 as iio2

        with iio2.get_writer(out, format="FFMPEG", mode="I", fps=fps, codec="libx264", quality=7,
                             macro_block_size=16, ffmpeg_log_level="error") as writer:
            for image in images:
                writer.append_data(image)
    return out


def add_arguments(parser) -> None:
    parser.add_argument("scenario", help="preset name or path to a TOML file")
    parser.add_argument("--out", required=True, help="file to write: run.gif or run.mp4")
    parser.add_argument("--seed", type=int, default=1, help="seed of the run (default 1)")
    parser.add_argument("--weeks", type=int, help="weeks to run (default: the scenario's length)")
    parser.add_argument("--set", action="append", metavar="KEY=VALUE", help="override a parameter, e.g. trust.initial=0.8")
    parser.add_argument("--every", type=int, default=3, help="weeks between frames (default 3)")
    parser.add_argument("--fps", type=float, default=8.0, help="frames per second (default 8)")
    parser.add_argument("--dpi", type=int, default=64, help="resolution: 64 gives 1024 x 576 frames (default)")


def _check_writable(out: Path) -> None:
    """The output file can be written (its folder is made); else a UserError."""
    from ..errors import UserError, make_folder

    make_folder(out.parent, "--out")
    existed = out.exists()
    try:
        with open(out, "ab"):
            pass
    except OSError as err:
        raise UserError(f"--out {out}: cannot write this file ({err.strerror or err})") from None
    if not existed:
        out.unlink()


def main(args) -> int:
    from ..errors import UserError
    from ..scenario import parse_sets

    if Path(args.out).suffix.lower() not in FORMATS:
        raise UserError(f"--out {args.out}: the file must end in .gif or .mp4")
    for name in ("weeks", "every", "dpi"):
        value = getattr(args, name)
        if value is not None and value < 1:
            raise UserError(f"--{name} {value}: must be at least 1")
    if args.dpi > MAX_DPI:
        raise UserError(f"--dpi {args.dpi}: at most {MAX_DPI} ({16 * MAX_DPI} x {9 * MAX_DPI} frames)")
    if args.fps <= 0:
        raise UserError(f"--fps {args.fps}: must be above 0")
    _check_writable(Path(args.out))  # before the run, not after it
    out = animate(args.scenario, args.out, seed=args.seed, weeks=args.weeks, overrides=parse_sets(args.set),
                  every=args.every, fps=args.fps, dpi=args.dpi)
    print(f"nlcsim animate: wrote {out}")
    return 0
