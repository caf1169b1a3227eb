"""The translation word rule: punctuation split off with joiners, and join_words rebuilding the
text exactly (whitespace runs as one space) for any text."""

from hypothesis import given, settings
from hypothesis import strategies as st

from rnnkit.data.segment import JOINER, Words, cut_words, join_words, segmenter_from_dict

J = JOINER


def test_the_documented_examples():
    assert cut_words("Hello, world!") == ["Hello", J + ",", "world", J + "!"]
    assert cut_words("(l'homme) ?") == ["(" + J, "l'homme", J + ")", "?"]
    assert cut_words("Wait...what") == ["Wait", J + ".", J + ".", J + "." + J, "what"]
    assert cut_words("don't wear a t-shirt’s") == ["don't", "wear", "a", "t-shirt’s"]
    assert cut_words("-3.5 km/h") == ["-" + J, "3", J + "." + J, "5", "km", J + "/" + J, "h"]


def test_lowercase_and_spaces():
    assert cut_words("Ein  HUND\tläuft.", lowercase=True) == ["ein", "hund", "läuft", J + "."]
    assert cut_words("Cours\u202f!") == ["Cours", "!"]  # a narrow no-break space is a space
    assert cut_words(f"a{J}b") == ["a", "b"]  # the joiner mark itself reads as a space
    assert cut_words("   ") == []


def test_join_rebuilds_the_text():
    for text in ["Hello, world!", "(l'homme) ?", "Wait...what", "Qu'est-ce que c'est ?", "« Bonjour », dit-il."]:
        assert join_words(cut_words(text)) == text


def test_join_of_any_model_output_is_well_formed():
    assert join_words([]) == ""
    assert join_words([J + ".", "a", J, "b" + J]) == ". a b"  # stray joiners glue or vanish, never print
    assert join_words(["a", "(" + J, J + "b"]) == "a (b"


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40))
def test_round_trip_for_any_text(text):
    text = text.replace(J, " ")
    assert join_words(cut_words(text)) == " ".join(text.split())
    assert join_words(cut_words(text, lowercase=True)) == " ".join(text.lower().split())


def test_words_segmenter_round_trips_through_its_dict():
    w = Words(lowercase=True)
    assert w.cut("A dog.") == ["a", "dog", J + "."] and w.join(w.cut("A dog.")) == "a dog."
    assert segmenter_from_dict(w.to_dict()) == w
    assert segmenter_from_dict({"kind": "word"}) == Words()
