import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from archive.normalize import clean, comparison_form, fold, retone, tone_variants

NFD = lambda s: unicodedata.normalize("NFD", s)  # noqa: E731


def test_clean_tidies_invisible_noise_but_keeps_spelling() -> None:
    raw = NFD("Uỷ\u200b ban\u00a0\u00a0nhân   dân  \n\n\n\n“Dân vận khéo” – năm\u2003hoà bình\u00ad ")
    assert clean(raw) == "Uỷ ban nhân dân\n\n“Dân vận khéo” – năm hoà bình"
    assert unicodedata.is_normalized("NFC", clean(raw))
    assert clean(None) == "" and clean("") == ""


def test_clean_keeps_paragraphs_and_lines() -> None:
    assert clean("  a  b \r\nc\r\n\r\n\r\nd ") == "a b\nc\n\nd"


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("hoà", "hòa"),
        ("uỷ", "ủy"),
        ("thuỷ", "thủy"),
        ("khoẻ", "khỏe"),
        ("toà", "tòa"),
        ("loà", "lòa"),
        ("hoá", "hóa"),
        ("xoã", "xõa"),
        ("hoạ", "họa"),
        ("luỹ", "lũy"),
        ("tuỵ", "tụy"),
        ("Uỷ ban", "Ủy ban"),
        ("THUỶ LỢI", "thủy lợi"),
    ],
)
def test_comparison_form_unifies_old_and_new_tone_placement(old: str, new: str) -> None:
    assert comparison_form(old) == comparison_form(new) == comparison_form(NFD(old))


@pytest.mark.parametrize(
    "word",
    # tone placement is not ambiguous in these: closed syllables, marked vowels, qu/gi onsets, 3 vowels
    ["hoàng", "toán", "huỳnh", "quý", "quà", "giá", "già", "người", "tiếng", "chuyển", "ngoài", "khuỷu", "mùa",
     "thuở", "xoáy", "hoặc", "thuế", "gì"],
)
def test_retone_leaves_unambiguous_syllables(word: str) -> None:
    assert retone(word) == word
    assert retone(word, modern=True) == word
    assert tone_variants(word) == {word}


def test_retone_fixes_misplaced_tones_by_the_general_rule() -> None:
    assert retone("hòang") == "hoàng"  # closed syllable: tone on the last vowel
    assert retone("qúy") == "quý"  # qu is a consonant
    assert retone("gìa") == "già"
    assert retone("ngòai") == "ngoài"


def test_retone_leaves_non_vietnamese_words() -> None:
    for word in ("covid", "html5", "café", "ĐBQH", "x"):
        assert retone(word) == word


def test_tone_variants_gives_both_spellings() -> None:
    assert tone_variants("hòa") == {"hòa", "hoà"}
    assert tone_variants("uỷ") == {"ủy", "uỷ"}


def test_comparison_form_unifies_case_quotes_and_dashes() -> None:
    assert comparison_form("“Dân vận khéo” — 2024") == comparison_form('"dân vận KHÉO" - 2024')
    assert comparison_form("Nhà nước…") == "nhà nước..."


def test_fold_strips_every_mark_and_d_stroke() -> None:
    assert fold("Đà Nẵng") == "Da Nang"
    assert fold("đồng chí Uỷ viên, Ủy ban, dân vận") == "dong chi Uy vien, Uy ban, dan van"
    assert fold(NFD("Đảng ủy xã Quảng Phú")) == "Dang uy xa Quang Phu"
    assert fold("ư ơ ă â ê ô") == "u o a a e o"
    assert fold(None) == ""


VIETNAMESE = "aăâeêioôơuưyđbcdghklmnpqrstvxàáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵ"


@given(st.text(alphabet=VIETNAMESE + " \n“”–\u00a0\u200bĐÀ", max_size=80))
def test_normalization_properties(text: str) -> None:
    form = comparison_form(text)
    assert comparison_form(form) == form  # idempotent
    assert fold(comparison_form(text)) == fold(clean(text).lower()).translate(str.maketrans("“”–", '""-'))
    assert fold(fold(text)) == fold(text)
    assert not any(unicodedata.combining(c) for c in fold(text))


@given(st.text(alphabet=VIETNAMESE, min_size=1, max_size=7))
def test_retone_only_moves_the_tone(word: str) -> None:
    for modern in (False, True):
        moved = retone(word, modern)
        assert fold(moved) == fold(word)
        assert len(moved) == len(word)
        assert retone(moved, modern) == moved


def test_comparison_form_of_text_already_clean_skips_cleaning_only() -> None:
    raw = "Uỷ\u00a0ban  “Dân vận khéo” – năm\u200b 2024"
    assert comparison_form(clean(raw), cleaned=True) == comparison_form(raw)


def _fold_reference(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text)
    stripped = "".join(c for c in decomposed if unicodedata.category(c) != "Mn")
    return unicodedata.normalize("NFC", stripped.replace("đ", "d").replace("Đ", "D"))


_VIETNAMESE = "aăâeêioôơuưyđĐAĂÂEÊIOÔƠUƯYbcg \u0300\u0301\u0303\u0309\u0323\u0302\u0306\u031bệẬờữỹ"


@given(st.text(alphabet=st.sampled_from(_VIETNAMESE)) | st.text())
def test_fold_by_character_table_equals_folding_the_whole_string(text: str) -> None:
    assert fold(text) == _fold_reference(text)
