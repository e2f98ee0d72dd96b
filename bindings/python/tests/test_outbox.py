"""The offline outbox from Python: enqueue with nothing listening, delivery once the sandbox
comes up (once each, in order, the listener told with the server's ids), a refusal that fails
for good, cancel, reopen from the file, and Vietnamese text byte for byte."""

import asyncio
import os
import socket
import stat
import threading
import time
import uuid

import pytest

import hues
import hues.testing

from conftest import DONG_BA

VI = "Ngập sâu 40 cm trên đường Phan Đình Phùng, xe máy chết máy; cần hỗ trợ gấp! 🌧"
ADDRESS = "Chợ Đông Ba, đường Trần Hưng Đạo"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def new_report(text, category="street_light"):
    return hues.NewReport(category=category, description=text,
                          location=hues.Location(address=ADDRESS, ward="Đông Ba", **DONG_BA))


class Events(hues.OutboxListener):
    """A listener written in Python: what an app's notification code would do."""

    def __init__(self):
        super().__init__()
        self.delivered_items = []
        self.failed_items = []
        self.threads = set()
        self.cond = threading.Condition()

    def delivered(self, item):
        with self.cond:
            self.delivered_items.append(item)
            self.threads.add(threading.current_thread().name)
            self.cond.notify_all()

    def failed(self, item):
        with self.cond:
            self.failed_items.append(item)
            self.cond.notify_all()

    def wait(self, delivered, failed=0):
        with self.cond:
            return self.cond.wait_for(lambda: len(self.delivered_items) >= delivered
                                      and len(self.failed_items) >= failed, timeout=30)


def offline_client(port, api_key="hk_test_hue_s_sandbox_0001"):
    return hues.Client(base_url=f"http://127.0.0.1:{port}", api_key=api_key, timeout=8)


def test_enqueued_offline_then_delivered_once_in_order_with_events(tmp_path):
    port = free_port()
    word = "obx" + uuid.uuid4().hex[:10]
    events = Events()
    path = str(tmp_path / "outbox.db")
    with offline_client(port) as client, \
            hues.Outbox(client, path, listener=events, initial_backoff=0.02, max_backoff=0.2) as outbox:
        texts = [f"{VI} {word} #{i}" for i in range(4)]
        ids = [outbox.enqueue(new_report(t)).local_id for t in texts]
        assert len(set(ids)) == 4
        assert outbox.wait_idle(0.3) is False  # nothing listens on the port
        items = outbox.items().items
        assert [i.local_id for i in items] == ids
        assert all(i.state != hues.OutboxItemState.DELIVERED for i in items)
        assert [i.report.description for i in items] == texts  # byte for byte
        deadline = time.monotonic() + 20  # the head's attempt ends with the refused connection
        while not items[0].last_error and time.monotonic() < deadline:
            time.sleep(0.02)
            items = outbox.items().items
        assert "connection" in items[0].last_error
        assert items[1].attempts == 0  # one at a time: the others wait their turn
        assert events.delivered_items == []

        with hues.testing.Sandbox(port=port, tls_port=-1) as sb:
            assert outbox.wait_idle(30)
            assert events.wait(4)
            items = outbox.items().items
            assert [i.state for i in items] == [hues.OutboxItemState.DELIVERED] * 4
            assert [e.local_id for e in events.delivered_items] == ids  # in order
            assert [e.report_id for e in events.delivered_items] == [i.report_id for i in items]
            assert not events.failed_items
            assert all(not t.startswith("MainThread") for t in events.threads)
            with sb.client() as online:
                found = list(online.reports.list(q=word, limit=100))
                assert sorted(r.description for r in found) == sorted(texts)  # once each
                for item, text in zip(items, texts):
                    r = online.reports.get(item.report_id)
                    assert r.description == text
                    assert r.description.encode("utf-8") == text.encode("utf-8")
                    assert r.location.address == ADDRESS
        assert outbox.purge() == 4
        assert outbox.items().items == []


def test_a_refused_report_fails_once_and_the_queue_goes_on(tmp_path, sandbox):
    events = Events()
    word = "obx" + uuid.uuid4().hex[:10]
    with sandbox.client() as client, \
            hues.Outbox(client, str(tmp_path / "o.db"), listener=events, initial_backoff=0.02) as outbox:
        bad = outbox.enqueue(new_report(f"Danh mục không tồn tại {word}", category="no_such_category"))
        good = outbox.enqueue(new_report(f"Đèn đường hỏng {word}"))
        assert outbox.wait_idle(30)
        assert events.wait(1, 1)
        first, second = outbox.items().items
        assert first.local_id == bad.local_id
        assert first.state == hues.OutboxItemState.FAILED
        assert first.attempts == 1
        assert first.error_field == "category"
        assert "validation 400" in first.last_error
        assert second.state == hues.OutboxItemState.DELIVERED and second.report_id
        outbox.flush()
        assert outbox.wait_idle(2)
        assert outbox.items().items[0].attempts == 1  # not retried
        assert [e.local_id for e in events.failed_items] == [bad.local_id]
        assert [e.local_id for e in events.delivered_items] == [good.local_id]
        # retry (generated from the spec): a delivered item is not failed; the failed one is sent
        # again (still refused here: the category stays unknown) and fails once more.
        assert outbox.retry(good.local_id) is False
        assert outbox.retry(bad.local_id) is True
        assert outbox.wait_idle(30)
        assert events.wait(1, 2)
        again = outbox.items().items[0]
        assert again.state == hues.OutboxItemState.FAILED and again.attempts == 1
        assert [e.local_id for e in events.failed_items] == [bad.local_id, bad.local_id]
        with pytest.raises(hues.NotFoundError) as e:
            outbox.retry("obx_999999")
        assert e.value.field == "local_id"


def test_validation_cancel_reopen_and_file_mode(tmp_path):
    port = free_port()
    path = str(tmp_path / "outbox.db")
    client = offline_client(port)
    outbox = hues.Outbox(client, path, initial_backoff=0.05)
    with pytest.raises(hues.ValidationError) as e:
        outbox.enqueue(new_report(""))
    assert e.value.field == "report.description"
    assert outbox.items().items == []
    a = outbox.enqueue(new_report("Rác chưa thu gom ở Vỹ Dạ"))
    b = outbox.enqueue(new_report("Cây đổ chắn đường Lê Lợi"))
    assert outbox.cancel(b.local_id) is True
    with pytest.raises(hues.NotFoundError) as nf:
        outbox.cancel(b.local_id)
    assert nf.value.field == "local_id"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    with pytest.raises(hues.ValidationError) as busy:
        hues.Outbox(client, path)  # one process (and one object) per file
    assert busy.value.field == "path"
    outbox.close()

    with hues.Outbox(client, path) as reopened:
        items = reopened.items().items
        assert [i.local_id for i in items] == [a.local_id]
        assert items[0].report.description == "Rác chưa thu gom ở Vỹ Dạ"
        assert items[0].state in (hues.OutboxItemState.PENDING, hues.OutboxItemState.SENDING)
    client.close()


def test_async_forms(tmp_path, sandbox):
    async def main():
        with sandbox.client() as client, hues.Outbox(client, str(tmp_path / "a.db"), initial_backoff=0.02) as outbox:
            item = await outbox.enqueue_async(new_report("Ngập nước ở Đập Đá " + uuid.uuid4().hex[:8]))
            assert item.state == hues.OutboxItemState.PENDING
            assert await outbox.wait_idle_async(30)
            items = (await outbox.items_async()).items
            assert items[0].local_id == item.local_id and items[0].report_id

    asyncio.run(main())


def test_events_as_an_async_iterator(tmp_path, sandbox):
    """hues.events(hues.OutboxListener): the listener's calls as an async iterator."""
    word = "obx" + uuid.uuid4().hex[:10]
    stream = hues.events(hues.OutboxListener)
    assert isinstance(stream, hues.OutboxListener)

    async def main():
        with sandbox.client() as client, \
                hues.Outbox(client, str(tmp_path / "e.db"), listener=stream, initial_backoff=0.02) as outbox:
            good = await outbox.enqueue_async(new_report(f"Đèn đường hỏng {word}"))
            bad = await outbox.enqueue_async(new_report(f"Sai danh mục {word}", category="no_such_category"))
            seen = []
            async for ev in stream:
                seen.append(ev)
                if len(seen) == 2:
                    break
            assert [(e.method, e.args[0].local_id) for e in seen] == [("delivered", good.local_id),
                                                                        ("failed", bad.local_id)]
            assert seen[0].args[0].report_id
            assert seen[1].args[0].error_field == "category"

    asyncio.run(main())
    stream.close()
    assert list(stream) == []


def test_a_report_with_a_photo_queued_offline_is_delivered_with_it(tmp_path):
    """enqueue(report, [OutboxMedia]) with nothing listening; the photo is uploaded (tus) and
    attached once the sandbox comes up: the report's medium has the file's sha256."""
    import hashlib

    from tus_upload import jpeg

    port = free_port()
    word = "obx" + uuid.uuid4().hex[:10]
    data = jpeg(320, 240) + bytes(range(256)) * 100
    photo = tmp_path / "ảnh-ngập.jpg"
    photo.write_bytes(data)
    events = Events()
    with offline_client(port) as client, \
            hues.Outbox(client, str(tmp_path / "m.db"), listener=events, initial_backoff=0.02, max_backoff=0.2,
                        media_chunk_size=8192) as outbox:
        with pytest.raises(hues.ValidationError) as e:
            outbox.enqueue(new_report("Không có tệp"), [hues.OutboxMedia(path=str(tmp_path / "none.jpg"),
                                                                          media_type=hues.MediaType.PHOTO)])
        assert e.value.field == "media[0].path"
        assert outbox.items().items == []
        item = outbox.enqueue(new_report(f"Ngập có ảnh {word}"),
                              [hues.OutboxMedia(path=str(photo), media_type=hues.MediaType.PHOTO)])
        assert item.media_total == len(data) and item.media_sent == 0
        assert [m.path for m in item.media] == [str(photo)]
        assert outbox.wait_idle(0.3) is False
        with hues.testing.Sandbox(port=port, tls_port=-1) as sb:
            outbox.flush()
            assert outbox.wait_idle(30)
            assert events.wait(1)
            (done,) = outbox.items().items
            assert done.state == hues.OutboxItemState.DELIVERED
            assert done.media_sent == done.media_total == len(data)
            assert done.media[0].media_id and done.report.media == [done.media[0].media_id]
            with sb.client() as online:
                r = online.reports.get(done.report_id)
                assert r.description == f"Ngập có ảnh {word}"
                assert r.media == [done.media[0].media_id]
                m = online.media.get(r.media[0])
                assert m.sha256 == hashlib.sha256(data).hexdigest()
                assert m.size == len(data)
