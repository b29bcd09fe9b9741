import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "crawler", *args], capture_output=True, text=True, timeout=60)


def test_check_accepts_the_shipped_files():
    result = run("sites", "check", "--sites", str(ROOT / "sites.toml"))
    assert result.returncode == 0, result.stdout
    assert "ok:" in result.stdout


def test_check_reports_every_problem_with_site_and_key(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(
        """
[crawler]
delay = 3

[[site]]
id = "a"
name = "A"
province = "P"
kind = "government"
start_urls = ["not a url"]

[[site]]
id = "b"
name = "B"
province = "P"
kind = "party"
start_urls = ["https://b.gov.vn/"]
deny_patterns = ["[unclosed"]
""",
        encoding="utf-8",
    )
    result = run("sites", "check", "--sites", str(bad))
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert any("[crawler]: unknown key 'delay'" in line for line in lines)
    assert any("site 'a'" in line and "start_urls" in line for line in lines)
    assert any("site 'b'" in line and "deny_patterns" in line for line in lines)
    assert lines[-1] == "3 problem(s)"


def test_check_names_the_table_and_key_of_bad_crawler_limits(tmp_path):
    from crawler.samples.server import SampleWeb

    config = tmp_path / "sample.toml"
    SampleWeb(port=8765).write_config(config)  # not started: only its config is written
    assert run("sites", "check", "--sites", str(config)).returncode == 0
    config.write_text(config.read_text(encoding="utf-8") + "\n[crawler.backfill]\nmax_page = 900\n", encoding="utf-8")
    result = run("sites", "check", "--sites", str(config))
    assert result.returncode == 1
    assert "[crawler.backfill]: unknown key 'max_page'" in result.stdout
