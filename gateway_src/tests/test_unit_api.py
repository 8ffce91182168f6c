"""The automation API's pieces that need a clock or many ids: the rate window and session ids."""

from __future__ import annotations

from picoclaw_gateway.api.limits import MAX_CLIENTS, SlidingWindow
from picoclaw_gateway.api.turns import session_id


def test_window_refuses_past_the_limit_and_frees_up_after_a_minute() -> None:
    now = [1000.0]
    window = SlidingWindow(3, clock=lambda: now[0])
    for _ in range(3):
        assert window.retry_after("10.0.0.5") == 0
        window.add("10.0.0.5")
        now[0] += 1
    assert window.retry_after("10.0.0.5") == 58  # the first event leaves the window at 1060
    assert window.retry_after("10.0.0.6") == 0, "another client has its own window"
    now[0] = 1060.5
    assert window.retry_after("10.0.0.5") == 0


def test_window_forgets_the_longest_idle_clients_past_its_bound() -> None:
    window = SlidingWindow(1, clock=lambda: 0.0)
    for client in range(MAX_CLIENTS + 10):
        window.add(str(client))
    assert window.retry_after(str(MAX_CLIENTS + 9)) > 0
    assert window.retry_after("0") == 0, "forgotten (bounded memory), not held forever"


def test_session_ids_never_collide_and_stay_file_safe() -> None:
    ids = ["orders", "a/b", "a_b", "a.b", "x_" + "0" * 40, "n8n@example.org", "../../etc", "A" * 65, "A" * 64]
    mapped = [session_id(i) for i in ids]
    assert len(set(mapped)) == len(ids)
    assert mapped[0] == "orders" and mapped[-1] == "A" * 64
    assert all(m.replace("-", "").replace("_", "").isalnum() and len(m) <= 64 for m in mapped)
