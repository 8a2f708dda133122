"""Heat: two people arguing, read from the channel's last few minutes."""

from __future__ import annotations

from bots.host.heat import is_heated
from bots.host.tests.builders import NOW, item


def test_two_people_pushing_back_at_each_other_quickly_is_heated():
    items = [
        item("m1", "alice", "vim is objectively better", minutes_ago=1.5),
        item("m2", "bob", "no way, that's just wrong", minutes_ago=1.2),
        item("m3", "alice", "it is NOT wrong", minutes_ago=1.0),
        item("m4", "bob", "nonsense!!", minutes_ago=0.5),
    ]

    assert is_heated(items, now=NOW)


def test_a_calm_exchange_is_not_heated():
    items = [
        item("m1", "alice", "I think the blue one looks nicer", minutes_ago=1.5),
        item("m2", "bob", "hmm I like the green one more", minutes_ago=1.2),
        item("m3", "alice", "fair, both work", minutes_ago=1.0),
        item("m4", "bob", "let's ask carol", minutes_ago=0.5),
    ]

    assert not is_heated(items, now=NOW)


def test_pushback_from_long_ago_or_from_one_person_is_not_an_argument():
    old = [
        item("m1", "alice", "wrong!!", minutes_ago=30),
        item("m2", "bob", "no way", minutes_ago=29),
        item("m3", "alice", "nonsense", minutes_ago=28),
        item("m4", "bob", "you always say that!!", minutes_ago=27),
    ]
    ranting = [item(f"m{n}", "alice", "this is wrong!!", minutes_ago=1 - n / 10) for n in range(5)]

    assert not is_heated(old, now=NOW)
    assert not is_heated(ranting, now=NOW)
