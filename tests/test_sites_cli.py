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


def test_probe_uses_the_sites_file_agent_and_the_site_rules(tmp_path):
    """``sites probe --sites``: the page is fetched under the configured contact (robots.txt first) and read
    with the rules of the configured site it belongs to; the expected fields come out."""
    import json

    from crawler.samples.server import SampleWeb

    try:
        from test_end_to_end import expectations, path_of
    except ImportError:  # tests/ collected as a package
        from tests.test_end_to_end import expectations, path_of

    with SampleWeb(port=0) as web:
        config = web.write_config(tmp_path / "sites.toml")
        text = config.read_text(encoding="utf-8").replace("sample-web@example.org", "probe-desk@example.org")
        config.write_text(text, encoding="utf-8")
        (site_id, path), expected = sorted(expectations().items())[0]
        url = web.url(site_id, path)
        result = run("sites", "probe", url, "--sites", str(config), "--json")
        assert result.returncode == 0, result.stderr
        report = json.loads(result.stdout)
        seen = web.requests_of(site_id)
    assert report["site"] == site_id
    assert report["extraction"]["title"] == expected["title"]
    assert path_of(report["url"]) == path
    agents = {next(v for k, v in r.headers.items() if k.lower() == "user-agent") for r in seen}
    assert agents and all("probe-desk@example.org" in agent for agent in agents), agents
    assert [r.path for r in seen][:1] == ["/robots.txt"]


def test_probe_without_a_sites_file_uses_generic_rules(tmp_path):
    from crawler.samples.server import SampleWeb

    with SampleWeb(port=0) as web:
        site_id = sorted(web.sites)[0]
        result = run("sites", "probe", web.url(site_id, "/"))
    assert result.returncode == 0, result.stderr
    assert "site:      none configured" in result.stdout
