"""The vectorized NANP path must give phonenumbers' own verdicts, and both paths the issue's examples."""

import random

import phonenumbers
import pytest

from campaigns.leadimport.phones import NanpTable, PhoneNormalizer, clean_nanp, parse_slow


@pytest.fixture(scope="module")
def normalizer(tmp_path_factory):
    return PhoneNormalizer("US", NanpTable(cache_dir=tmp_path_factory.mktemp("nanp")))


@pytest.mark.parametrize("raw, e164, ext", [
    ("(212) 555-0123", "+12125550123", None),
    ("+1 212.555.0123", "+12125550123", None),
    ("2125550123 ext 4", "+12125550123", "4"),
    ("1-212-555-0123", "+12125550123", None),
    ("'+1 212 555 0123", "+12125550123", None),
    ("+44 20 7946 0958", "+442079460958", None),
])
def test_issue_examples(normalizer, raw, e164, ext):
    [p] = normalizer.normalize([raw])
    assert (p.e164, p.extension) == (e164, ext)


@pytest.mark.parametrize("raw, reason", [
    ("", "empty"), ("123", "too short"), ("n/a", "not a phone number"), ("(911) 555-0123", "invalid"),
    ("212-155-0123", "invalid"), ("212555012345678", "too long"), ("555-0123", "local number"),
])
def test_rejections_carry_a_reason(normalizer, raw, reason):
    [p] = normalizer.normalize([raw])
    assert p.e164 is None and reason in p.reason


def test_fast_path_agrees_with_phonenumbers_on_random_numbers(normalizer):
    rng = random.Random(2)
    forms = ["{}", "({}) {}-{}", "+1 {}.{}.{}", "1-{}-{}-{}", "+1{}"]
    cells = []
    for _ in range(4000):
        n = str(rng.randrange(2_000_000_000, 10_000_000_000))
        form = rng.choice(forms)
        cells.append(form.format(n) if form.count("{}") == 1 else form.format(n[:3], n[3:6], n[6:]))
    assert all(clean_nanp(c) is not None for c in cells)  # every one takes the fast path
    fast = normalizer.normalize(cells)
    for cell, p in zip(cells, fast, strict=True):
        slow = parse_slow(cell, "US")
        assert (p.e164, p.phone_type) == (slow.e164, slow.phone_type), cell
    assert 0.2 < sum(p.e164 is not None for p in fast) / len(fast) < 0.9  # both verdicts were exercised


def test_prefix_verdict_does_not_depend_on_the_last_four_digits():
    rng = random.Random(5)
    for _ in range(1500):
        prefix = rng.randrange(200_000, 1_000_000)
        verdicts = {phonenumbers.is_valid_number(phonenumbers.PhoneNumber(country_code=1,
                                                                          national_number=prefix * 10_000 + s))
                    for s in (0, 9999, rng.randrange(10_000))}
        assert len(verdicts) == 1, prefix


def test_table_is_cached_on_disk(tmp_path):
    t = NanpTable(cache_dir=tmp_path)
    import numpy as np

    t.lookup(np.array([2125550123], dtype=np.int64))
    t.save()
    again = NanpTable(cache_dir=tmp_path)
    assert again.known[212555] and again.codes[212555] == t.codes[212555] != 0


def test_non_nanp_region_uses_phonenumbers_only():
    [p] = PhoneNormalizer("GB").normalize(["020 7946 0958"])
    assert p.e164 == "+442079460958"
