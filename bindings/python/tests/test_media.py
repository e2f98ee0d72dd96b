"""media.get, generated from the spec: a photo uploaded with raw tus HTTP, then read through
the SDK (sync and async), with its sniffed type, pixel size and digest; a stranger's 404."""
import asyncio
import hashlib

import pytest

import hues
from tus_upload import jpeg, upload


def test_media_get_reads_what_an_upload_became(sandbox, client):
    data = jpeg(640, 480)
    mid = upload(sandbox, data)
    m = client.media.get(mid)
    assert isinstance(m, hues.MediaObject)
    assert (m.id, m.type, m.content_type, m.size) == (mid, "photo", "image/jpeg", len(data))
    assert (m.width, m.height, m.duration_ms) == (640, 480, None)
    assert m.sha256 == hashlib.sha256(data).hexdigest() and m.location_removed is False
    assert m.content_url == f"/v1/media/{mid}/content" and m.owner.startswith("key:")

    async def read():
        async with sandbox.async_client(timeout=20) as ac:
            return await ac.media.get(mid)
    assert asyncio.run(read()) == m


def test_media_get_refuses_bad_and_unknown_ids(client):
    with pytest.raises(hues.NotFoundError):
        client.media.get("m_aaaaaaaaaaaaaaaaaaaaaaaa")
    with pytest.raises(hues.ValidationError) as bad:
        client.media.get("not-a-media-id")  # the spec's pattern, checked before sending
    assert bad.value.field == "media_id"
