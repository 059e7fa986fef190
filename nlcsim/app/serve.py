"""``nlcsim app``: serve the trainer app on this machine, with no internet needed.

Solara's page loads its front-end code (Vue, Vuetify, require.js, fonts)
from a CDN unless it finds a local copy.  The ``solara-assets`` package
(PyPI) installs that copy under ``<prefix>/share/solara/cdn``; the server
here points Solara's assets proxy at it (``SOLARA_ASSETS_PROXY_CACHE_DIR``),
so a school hall without wifi still gets the page.  Telemetry and the
version check, which would call out, are switched off.
"""

from __future__ import annotations

import errno
import importlib.metadata
import os
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

APP_MODULE = "nlcsim.app.page"
DEFAULT_PORT = 8765


def assets_dir() -> Path | None:
    """Where ``solara-assets`` put Solara's front-end bundle (None if it is not installed)."""
    try:
        files = importlib.metadata.files("solara-assets") or []
    except importlib.metadata.PackageNotFoundError:
        return None
    for f in files:
        parts = Path(f).parts
        if "cdn" in parts and "solara" in parts:
            full = Path(f.locate()).resolve()
            i = len(full.parts) - 1 - full.parts[::-1].index("cdn")
            return Path(*full.parts[: i + 1])
    return None


def needed_assets() -> list[str]:
    """The CDN packages Solara's page template asks for, e.g. ``requirejs@2.3.6``."""
    import solara

    template = Path(solara.__file__).parent / "server" / "templates" / "solara.html.j2"
    text = template.read_text(encoding="utf-8")
    found = re.findall(r"\{\{cdn\}\}/((?:@[\w.-]+/)?[\w.-]+@[\w.-]+)/", text)
    vuetify3 = {p for p in found if "vuetify3" in p}  # only used with ipyvuetify 3, which the app pins away
    if "fontawesome_path" in text:  # icons: a setting, not written out in the template
        from solara.server.settings import assets

        found.append(assets.fontawesome_path.strip("/").split("/")[0])
    return sorted(set(found) - vuetify3)


def missing_assets() -> list[str]:
    """Packages the page needs that are not installed locally (empty when the app works offline)."""
    root = assets_dir()
    if root is None:
        return ["solara-assets (the package)"]
    return [p for p in needed_assets() if not (root / p).is_dir()]


def server_env(base: dict | None = None) -> dict:
    """The environment for Solara's server: local assets, no telemetry, no calls out."""
    env = dict(os.environ if base is None else base)
    root = assets_dir()
    env["SOLARA_ASSETS_PROXY"] = "True"
    if root is not None:
        env["SOLARA_ASSETS_PROXY_CACHE_DIR"] = str(root)
    env["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] = "False"
    env.setdefault("SOLARA_THEME_VARIANT", "light")
    # Solara's static check of hook order flags Mesa's ComponentsView, which returns early
    # when given no components (the trainer view lays out its own); nothing to fix here.
    env.setdefault("SOLARA_CHECK_HOOKS", "off")
    env.setdefault("MPLBACKEND", "Agg")
    return env


def server_command(host: str = "127.0.0.1", port: int = DEFAULT_PORT, open_browser: bool = False) -> list[str]:
    """The command line that runs the app's Solara server."""
    return [sys.executable, "-m", "solara", "run", APP_MODULE, "--host", host, "--port", str(port),
            "--production", "--no-check-version", "--open" if open_browser else "--no-open",
            "--log-level-uvicorn", "warning"]


def start(host: str = "127.0.0.1", port: int = DEFAULT_PORT, **popen) -> subprocess.Popen:
    """Start the server in the background (tests and scripts); stop it with ``.terminate()``."""
    return subprocess.Popen(server_command(host, port), env=server_env(), **popen)


def free_port(host: str, port: int) -> int:
    """``port`` if it can be listened on at ``host`` (0: a free one, chosen now so it can be
    printed); otherwise a UserError that says what to do."""
    from ..errors import UserError

    try:
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server does
            probe.bind((host, port))
            return probe.getsockname()[1]
    except OSError as err:
        hint = "choose another with --port" if err.errno == errno.EADDRINUSE else "check --host and --port"
        raise UserError(f"cannot serve on {host}:{port}: {err.strerror or err}; {hint}") from None


def add_arguments(parser) -> None:
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port to serve on (default {DEFAULT_PORT})")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default 127.0.0.1, this machine only; 0.0.0.0 for the room)")
    parser.add_argument("--open", action="store_true", help="open the page in the default browser")


def main(args) -> int:
    from ..errors import UserError

    if args.port < 0 or args.port > 65535:
        raise UserError(f"--port {args.port}: must be a port number from 0 to 65535")
    port = free_port(args.host, args.port)
    missing = missing_assets()
    if missing:
        raise UserError("the app's front-end files are not installed, so the page would need the internet: "
                        f"missing {', '.join(missing)}. Install them with: python3 -m pip install 'nlcsim[app]'")
    print(f"nlcsim app: serving on http://{args.host}:{port}  (Ctrl+C to stop)", flush=True)
    proc = subprocess.Popen(server_command(args.host, port, args.open), env=server_env())
    # Stopping this command (Ctrl+C, or a TERM from a process manager) stops the server with it.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    try:
        return proc.wait()
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
