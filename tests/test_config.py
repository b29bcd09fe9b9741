from pathlib import Path

import pytest

from crawler.config import ConfigError, load_config, parse_config

ROOT = Path(__file__).resolve().parents[1]

MINIMAL = """
[[site]]
id = "mttq-danang"
name = "Ủy ban MTTQ Việt Nam thành phố Đà Nẵng"
province = "Đà Nẵng"
kind = "front"
start_urls = ["https://mattran.danang.gov.vn/"]
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sites.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_minimal_entry_is_enough(tmp_path):
    config = load_config(write(tmp_path, MINIMAL))
    (site,) = config.sites
    assert site.id == "mttq-danang"
    assert site.kind == "front"
    assert site.hosts == ("mattran.danang.gov.vn",)
    assert site.family is None


def test_shipped_sites_file_is_valid():
    config = load_config(ROOT / "sites.toml")
    ids = {s.id for s in config.sites}
    assert {"mttq-danang", "danang", "giaothuy", "anlao"} <= ids
    assert len(config.sites) >= 25
    assert {s.kind for s in config.sites} == {"government", "front", "party"}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ('kind = "front"', "key 'kind' must be one of"),
        ('start_urls = ["https://mattran.danang.gov.vn/"]', "not an http(s) URL"),
        ('province = "Đà Nẵng"', "unknown key(s): provnce"),
        ('name = "Ủy ban MTTQ Việt Nam thành phố Đà Nẵng"', "missing key 'name'"),
    ],
)
def test_bad_entries_name_the_site_and_the_key(tmp_path, change, message):
    replacement = {
        'kind = "front"': 'kind = "ngo"',
        'start_urls = ["https://mattran.danang.gov.vn/"]': 'start_urls = ["ftp://x"]',
        'province = "Đà Nẵng"': 'provnce = "Đà Nẵng"',
        'name = "Ủy ban MTTQ Việt Nam thành phố Đà Nẵng"': "",
    }[change]
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, MINIMAL.replace(change, replacement)))
    assert "'mttq-danang'" in str(err.value)
    assert message in str(err.value)


def test_bad_pattern_and_duplicate_id(tmp_path):
    with pytest.raises(ConfigError, match="article_patterns.*bad pattern"):
        load_config(write(tmp_path, MINIMAL + 'article_patterns = ["(unclosed"]\n'))
    with pytest.raises(ConfigError, match="duplicate id"):
        load_config(write(tmp_path, MINIMAL + MINIMAL))


def test_not_toml_and_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(write(tmp_path, "[[site]\nid="))
    with pytest.raises(ConfigError, match="no such file"):
        load_config(tmp_path / "absent.toml")


def test_config_is_data_not_code():
    # A boolean is not a number, a table is not a string: types are checked, nothing is evaluated.
    with pytest.raises(ConfigError, match="wrong type"):
        parse_config({"site": [{"id": "a", "name": "A", "province": "P", "kind": "party",
                                "start_urls": ["http://a/"], "download_delay": True}]})
    with pytest.raises(ConfigError, match=r"\[crawler\]: unknown key"):
        parse_config({"site": [{"id": "a", "name": "A", "province": "P", "kind": "party",
                                "start_urls": ["http://a/"]}], "crawler": {"exec": "rm -rf /"}})


def test_select_unknown_site(tmp_path):
    config = load_config(write(tmp_path, MINIMAL))
    with pytest.raises(ConfigError, match="unknown site id"):
        config.select(["nope"])


def test_bad_css_selector_is_named(tmp_path):
    text = MINIMAL + '[site.selectors]\nbody = "div..content"\n'
    with pytest.raises(ConfigError, match=r"'mttq-danang'.*selectors.body.*bad CSS selector"):
        load_config(write(tmp_path, text))
    good = MINIMAL + '[site.selectors]\nbody = ["div.content", "#main article"]\n'
    assert load_config(write(tmp_path, good)).sites[0].selectors["body"] == ["div.content", "#main article"]


def test_backfill_has_its_own_limits_and_a_site_overrides_the_nightly_ones(tmp_path):
    text = MINIMAL.replace('kind = "front"', 'kind = "front"\nmax_pages = 300\nmax_page_number = 12')
    text = "[crawler]\nmax_page_number = 20\n\n[crawler.backfill]\nmax_page_number = 900\n" + text
    config = load_config(write(tmp_path, text))
    (site,) = config.sites
    nightly = config.crawler.limits(site)
    assert (nightly.max_pages_per_site, nightly.max_page_number) == (300, 12)
    backfill = config.crawler.limits(site, backfill=True)
    assert backfill.max_page_number == 900
    assert backfill.max_pages_per_site > nightly.max_pages_per_site  # the backfill default, not the site's


@pytest.mark.parametrize(
    ("crawler", "message"),
    [
        ("[crawler.backfill]\nmax_pages = 0", "[crawler.backfill]: key 'max_pages' must be a whole number"),
        ("[crawler.backfill]\nmax_depth = 3", "[crawler.backfill]: unknown key 'max_depth'"),
        ('[crawler]\ncontact = "nobody"', "[crawler]: key 'contact' must be an e-mail address"),
        ("[crawler]\nmax_page_number = 0", "[crawler]: key 'max_page_number' must be at least 1"),
        ("[crawler]\nfailure_threshold = 2", "[crawler]: key 'failure_threshold' must be between 0 and 1"),
    ],
)
def test_bad_crawler_options_name_the_table_and_the_key(tmp_path, crawler, message):
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, crawler + "\n" + MINIMAL))
    assert message in str(err.value)


def test_user_agent_carries_the_contact(tmp_path):
    config = load_config(write(tmp_path, '[crawler]\ncontact = "ops@archive.example.org"\n' + MINIMAL))
    assert "ops@archive.example.org" in config.crawler.agent
