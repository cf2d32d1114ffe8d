"""The SK pendelegasian rule: pure, no PKI needed."""

from datetime import UTC, datetime, timedelta

import pytest

from pengesahan.errors import SigningRefused
from signing.delegation import Official, authorise, delegation_state
from tests.support.signing import KABID, KADIS, PP, SEKDIS, delegation

NOW = datetime.now(UTC)


def test_kepala_dinas_signs_without_sk():
    authority = authorise(KADIS, [], NOW, PP)
    assert authority.delegation is None
    assert authority.capacity_lines == ("Kepala Dinas",)
    assert authority.sk_reference is None
    assert "Kepala Dinas" in authority.reason


def test_acting_kepala_dinas_signs_as_plt():
    plt = Official(
        "Ir. Dewi Lestari", "197501012000032001", "Pembina (IV/a)", "kepala_dinas", "Plt."
    )
    authority = authorise(plt, [], NOW, PP)
    assert authority.capacity_lines == ("Plt. Kepala Dinas",)


def test_sekretaris_with_sk_in_force():
    sk = delegation(SEKDIS)
    authority = authorise(SEKDIS, [sk], NOW, PP)
    assert authority.delegation is sk
    assert authority.capacity_lines == ("a.n. Kepala Dinas", "Sekretaris Dinas")
    assert sk.number in authority.reason
    assert "5 Januari 2026" in authority.reason
    assert authority.reason.startswith("Disahkan oleh Sekretaris Dinas a.n. Kepala Dinas")


def test_second_level_ub():
    first = delegation(SEKDIS)
    second = delegation(KABID, number="800/046/Disnaker/2026", delegating=SEKDIS, parent=first)
    authority = authorise(KABID, [second], NOW, PP)
    assert authority.capacity_lines == (
        "a.n. Kepala Dinas",
        "Sekretaris Dinas",
        "u.b.",
        "Kepala Bidang Penempatan Tenaga Kerja",
    )
    assert first.number in authority.reason and second.number in authority.reason


@pytest.mark.parametrize(
    ("delegations", "expected"),
    [
        ([], "tidak ada SK pendelegasian"),
        ([delegation(SEKDIS, valid_until=NOW - timedelta(days=1))], "sudah tidak berlaku"),
        ([delegation(SEKDIS, valid_from=NOW + timedelta(days=1))], "belum berlaku"),
        ([delegation(SEKDIS, revoked_at=NOW - timedelta(hours=1))], "telah dicabut"),
        ([delegation(SEKDIS, revoked_at=NOW)], "telah dicabut"),
        ([delegation(SEKDIS, scope=frozenset({"rekomendasi_paspor"}))], "tidak mencakup"),
        ([delegation(KABID)], "diberikan kepada pejabat lain"),
        ([delegation(SEKDIS, delegating=KABID)], "tidak ditetapkan oleh Kepala Dinas"),
    ],
    ids=[
        "no-sk",
        "expired",
        "not-yet-valid",
        "revoked",
        "revoked-at-that-moment",
        "scope",
        "someone-else",
        "not-from-kadis",
    ],
)
def test_refusals(delegations, expected):
    with pytest.raises(SigningRefused) as info:
        authorise(SEKDIS, delegations, NOW, PP)
    assert expected in info.value.message
    assert SEKDIS.name in info.value.message


def test_revoked_later_still_covers_earlier_signature():
    sk = delegation(SEKDIS, revoked_at=NOW + timedelta(hours=1))
    assert authorise(SEKDIS, [sk], NOW, PP).delegation is sk


def test_parent_revoked_breaks_ub():
    first = delegation(SEKDIS, revoked_at=NOW - timedelta(days=1))
    second = delegation(KABID, number="800/046", delegating=SEKDIS, parent=first)
    with pytest.raises(SigningRefused, match="SK induk tidak berlaku"):
        authorise(KABID, [second], NOW, PP)


def test_one_valid_sk_among_stale_ones_is_used():
    old = delegation(SEKDIS, number="800/001", valid_until=NOW - timedelta(days=40))
    current = delegation(SEKDIS, number="800/099")
    assert authorise(SEKDIS, [old, current], NOW, PP).delegation is current


def test_naive_time_is_a_programming_error():
    with pytest.raises(ValueError):
        authorise(KADIS, [], datetime.now(), PP)  # noqa: DTZ005


def test_delegation_state_reports_revocation_since():
    signed_at = NOW - timedelta(days=2)
    sk = delegation(SEKDIS, revoked_at=NOW - timedelta(days=1))
    state = delegation_state(sk, signed_at, now=NOW)
    assert state.in_force and state.revoked_since
    assert "kemudian dicabut" in state.message
    late = delegation_state(sk, NOW, now=NOW)
    assert not late.in_force and not late.revoked_since


def test_an_sk_not_confirmed_by_its_maker_authorises_nothing():
    """An administrator alone cannot grant signing authority: the SK is a draft until the
    delegating official confirms it with their own key, and only from that moment."""
    at = datetime.now(UTC)
    draft = delegation(SEKDIS, confirmed_at=None)
    with pytest.raises(SigningRefused, match="belum dikonfirmasi"):
        authorise(SEKDIS, [draft], at, PP)
    late = delegation(SEKDIS, confirmed_at=at + timedelta(minutes=1))
    with pytest.raises(SigningRefused, match="baru dikonfirmasi"):
        authorise(SEKDIS, [late], at, PP)
    assert authorise(SEKDIS, [delegation(SEKDIS)], at, PP).delegation is not None
