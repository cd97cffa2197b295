from pathlib import Path

import pytest

from qa.chunking import chunk_article, sentence_spans
from qa.corpus import clean_article, load_corpus, parse_date

SEEDS = Path(__file__).resolve().parent.parent / "seeds"


def test_site_chrome_is_removed():
    raw = (
        "spot_imgspot_img\n\nHeadline here\n\nThe story begins. It goes on.\n"
        "See also  Something else entirely\nFollow us on Google News\nLeave a Reply\n"
        "Subscribe to get the latest posts sent to your email.\nGet in Touch\n\nLatest Posts\n"
    )
    text, meta = clean_article(raw)
    assert text == "Headline here\nThe story begins. It goes on."
    assert meta["title"] == "Headline here"


def test_word_split_by_a_line_break_is_rejoined():
    text, _ = clean_article("They went beyond mere arms tr\nade to include troops. Ties have\nstrengthened.")
    assert "arms trade to include" in text
    assert "have strengthened" in text


def test_sentences_scraped_without_a_space_between_them_are_split_but_addresses_stay_whole():
    text, _ = clean_article("Title\nThe magazine is published in Chicago.Its editor resigned.Read more at www.ExampleNews.com today.")
    assert [text[a:b] for a, b in sentence_spans(text)] == [
        "Title", "The magazine is published in Chicago.", "Its editor resigned.", "Read more at www.ExampleNews.com today."]


def test_metadata_from_header_block():
    raw = "Title of story\n- Asia\n- AFP\n- Published Date: 07:38 | 29 October 2024\nBody text is here.\n"
    text, meta = clean_article(raw)
    assert meta == {"title": "Title of story", "date": "2024-10-29", "time": "07:38", "updated": None, "publisher": "AFP"}
    assert "Asia" not in text and "Published" not in text


@pytest.mark.parametrize("stamp,published,updated", [
    ("- Modified Date: 07:40 | 29 October 2024", "2024-10-28", "2024-10-29 07:40"),
    ("Updated June 16, 2026, 11:14 a.m. ET", "2024-10-28", "2026-06-16 11:14 a.m. ET"),
    ("Dec. 2, 2022 Updated Dec. 5, 2022, 8:34 a.m. ET", "2024-10-28", "2022-12-05 8:34 a.m. ET"),
])
def test_an_update_stamp_is_kept_as_metadata_not_as_text(stamp, published, updated):
    raw = f"Title of story\nPublished Date: 28 October 2024\n{stamp}\nThe port reopened on Monday.\n"
    text, meta = clean_article(raw)
    assert (meta["date"], meta["updated"]) == (published, updated)
    assert text == "Title of story\nThe port reopened on Monday."


def test_a_sentence_about_an_update_is_article_text():
    raw = "Title of story\nUpdated guidance was issued on May 5, 2025.\nUpdated: never\nLast updated May 5, 2025 by staff\n"
    text, meta = clean_article(raw)
    assert "Updated guidance was issued on May 5, 2025." in text and "Last updated May 5, 2025 by staff" in text
    assert meta["updated"] is None


@pytest.mark.parametrize("raw,iso", [("29 October 2024", "2024-10-29"), ("October 29, 2024", "2024-10-29"), ("2024-10-29", "2024-10-29"), ("soon", None)])
def test_parse_date(raw, iso):
    assert parse_date(raw) == iso


def test_seed_metadata():
    loaded = load_corpus([SEEDS])
    assert [a.source for a in loaded.articles] == sorted(p.name for p in SEEDS.glob("*.txt"))
    by_source = {a.source: a for a in loaded.articles}
    dated = [a for a in loaded.articles if a.date]
    assert dated and all(len(a.date) == 10 for a in dated)
    for article in by_source.values():
        assert "spot_img" not in article.text and "Follow us on" not in article.text
        assert "Leave a Reply" not in article.text and "See also" not in article.text


def test_bad_files_are_skipped_with_a_reason(tmp_path):
    (tmp_path / "good.txt").write_text("A real article. It has sentences about things.")
    (tmp_path / "empty.txt").write_text("")
    (tmp_path / "binary.txt").write_bytes(b"\x00\x01\x02" * 100)
    (tmp_path / "latin1.txt").write_bytes("Caf\xe9 article text that is long enough.".encode("latin-1"))
    (tmp_path / "z_copy.md").write_text("A real article. It has sentences about things.")
    (tmp_path / "ignored.pdf").write_bytes(b"%PDF")
    outside = tmp_path.parent / "outside.txt"
    outside.write_text("An article outside the corpus folder, long enough.")
    (tmp_path / "link.txt").symlink_to(outside)
    loaded = load_corpus([tmp_path])
    assert [a.source for a in loaded.articles] == ["good.txt"]
    reasons = {Path(p).name: r for p, r in loaded.skipped}
    assert "empty" in reasons["empty.txt"]
    assert "binary" in reasons["binary.txt"]
    assert "UTF-8" in reasons["latin1.txt"]
    assert "copy of good.txt" in reasons["z_copy.md"]
    assert "outside" in reasons["link.txt"]


def test_missing_corpus_path_is_an_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_corpus([tmp_path / "nope"])


def test_chunks_keep_exact_spans_and_content_ids():
    for article in load_corpus([SEEDS]).articles:
        chunks = chunk_article(article, max_chars=500)
        assert chunks
        for c in chunks:
            assert article.text[c.start : c.end] == c.text
            assert len(c.text) <= 500 or len(sentence_spans(c.text)) == 1
        again = chunk_article(article, max_chars=500)
        assert [c.id for c in again] == [c.id for c in chunks]


def test_same_text_same_id_across_articles():
    from qa.corpus import Article

    a = chunk_article(Article("a.txt", "One sentence here. Another one there."))
    b = chunk_article(Article("b.txt", "One sentence here. Another one there."))
    assert a[0].id == b[0].id and a[0].source != b[0].source
