import os
from pathlib import Path

import pytest

ARTIFACTS = Path(__file__).parent / "artifacts"


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def chromium():
    """Debian's headless Chromium, driven by Playwright (tests/setup.sh installs both).

    The flags keep it from reaching for the network, which this machine does not have.
    """
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"])
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def small():
    """A small, fast scenario: 4 schools of 10 teachers for 2 years."""
    from nlcsim import Scenario

    return Scenario.load("baseline", overrides={
        "population.schools_per_network": 4, "population.teachers_per_school": 10,
        "schedule.years": 2, "funding.years": 1.0,
    })


# CI runs the same property-test examples every time (reproducible verdicts);
# local runs explore new ones.
from hypothesis import settings as _hypothesis_settings  # noqa: E402

_hypothesis_settings.register_profile("ci", derandomize=True)
if os.environ.get("CI"):
    _hypothesis_settings.load_profile("ci")
