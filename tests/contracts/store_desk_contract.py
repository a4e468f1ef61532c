"""The store contract for help-desk tickets and the desk outbox (migration 7).

Mixed into each backend's contract test class, like `tests/contracts/store_contract.py`.
"""

from __future__ import annotations

from bots.store import Store
from tests.contracts.store_contract import at, thread


class DeskStoreContract:
    """Contract cases; a subclass supplies the `store` fixture."""

    async def test_queued_calls_come_due_in_order_and_are_leased_once(self, store: Store) -> None:
        conversation = await store.ensure_conversation(thread("desk"), "restaurant", at(0))
        await store.enqueue_desk_job(conversation.id, "zendesk", "create", "{}", at(1))
        await store.enqueue_desk_job(conversation.id, "zendesk", "comment", "[]", at(2))
        assert await store.due_desk_jobs(at(0)) == []
        first, second = await store.due_desk_jobs(at(5))
        assert (first.kind, second.kind) == ("create", "comment")
        assert await store.lease_desk_job(first, at(65))
        assert not await store.lease_desk_job(first, at(65))  # another process lost the race
        await store.retry_desk_job(first.id, 1, at(9), "HTTP 503")
        [again, _] = await store.due_desk_jobs(at(10))
        assert (again.id, again.attempts, again.due_at) == (first.id, 1, at(9))
        await store.finish_desk_job(first.id, at(11))
        assert [j.kind for j in await store.due_desk_jobs(at(20))] == ["comment"]
        assert await store.pending_desk_jobs(conversation.id) == 1

    async def test_tickets_are_linked_and_solved_once(self, store: Store) -> None:
        conversation = await store.ensure_conversation(thread("ticket"), "restaurant", at(0))
        await store.link_desk_ticket(conversation.id, "zendesk", "101", at(1))
        [ticket] = await store.open_desk_tickets()
        assert (ticket.desk, ticket.ticket_id, ticket.status) == ("zendesk", "101", "open")
        assert await store.set_desk_ticket_status("zendesk", "101", "solved", at(2))
        assert not await store.set_desk_ticket_status("zendesk", "101", "solved", at(3))
        assert await store.open_desk_tickets() == []
        found = await store.desk_ticket("zendesk", "101")
        assert found is not None
        assert found.conversation_id == conversation.id

    async def test_forgetting_lists_the_tickets_and_drops_queued_text(self, store: Store) -> None:
        conversation = await store.ensure_conversation(thread("gone"), "restaurant", at(0))
        await store.link_desk_ticket(conversation.id, "chatwoot", "7", at(1))
        await store.enqueue_desk_job(conversation.id, "chatwoot", "comment", '["user","x"]', at(2))
        await store.enqueue_desk_job(conversation.id, "chatwoot", "delete", '"7"', at(3))
        forgotten = await store.forget_conversation(conversation.id)
        assert forgotten.desk_tickets == ("chatwoot:7",)
        assert await store.desk_tickets_of(conversation.id) == []
        assert [j.kind for j in await store.due_desk_jobs(at(9))] == ["delete"]
