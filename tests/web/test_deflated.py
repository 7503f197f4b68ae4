"""/metrics' gzip answer joined from blocks compressed once each (bot/web/deflated.py), and the collector that
compresses again only the blocks whose monitors moved (bot/web/metrics.py)."""

from __future__ import annotations

import gzip
import random
import shutil
import subprocess
import zlib

from bot.model import Status
from bot.web.activity import MOVES_PER_MONITOR, Activity
from bot.web.deflated import Block, Blocks, gzipped, plain
from bot.web.metrics import StateCollector, reference, registry
from tests.web.world import MONITORS, SITE, World

TEXTS = [b"# HELP downwatch_x A help\n", b"", "monitor=\"Ünïcødé ☃\" 1.0\n".encode() * 300,
         bytes(random.Random(7).getrandbits(8) for _ in range(70_000)), b"x"]  # incompressible, and tiny


def test_blocks_join_into_one_gzip_member_that_inflaters_read() -> None:
    blocks = [Block.of(text) for text in TEXTS]
    body = gzipped(blocks)
    whole = b"".join(TEXTS)
    assert plain(blocks) == whole
    assert gzip.decompress(body) == whole
    inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)  # as HTTP clients inflate, a piece at a time
    pieces = b"".join(inflate.decompress(body[at:at + 1000]) for at in range(0, len(body), 1000))
    assert pieces + inflate.flush() == whole and inflate.eof and not inflate.unused_data
    tool = shutil.which("gzip")
    assert tool is not None, "gzip(1) is on every Debian machine"
    assert subprocess.run([tool, "-dc"], input=body, capture_output=True, check=True).stdout == whole
    assert gzip.decompress(gzipped([])) == b""


def test_a_kept_block_is_compressed_again_only_when_its_text_changed() -> None:
    blocks = Blocks()
    first = blocks.get("a", b"one\n" * 100)
    assert blocks.get("a", b"one\n" * 100) is first
    assert blocks.get("b", b"one\n" * 100) is not first  # another key: another block
    changed = blocks.get("a", b"two\n" * 100)
    assert changed is not first and gzip.decompress(gzipped([changed])) == b"two\n" * 100


def last_check_blocks(blocks: list[Block]) -> list[Block]:
    return [b for b in blocks if b.text.startswith(b"downwatch_monitor_last_check_timestamp_seconds{")]


def test_a_scrape_compresses_again_only_the_chunks_whose_monitors_were_checked(world: World) -> None:
    store = world.wired.store
    collector = StateCollector(store=store, monitors=MONITORS, activity=world.activity, problems=None, chunk=2)
    fresh = registry(StateCollector(store=store, monitors=MONITORS, activity=world.activity, problems=None))

    def scrape() -> list[Block]:
        blocks = collector.blocks()
        assert gzip.decompress(gzipped(blocks)) == plain(blocks) == reference(fresh)  # the same text as a new one
        return blocks

    before = last_check_blocks(scrape())
    assert len(before) == 2  # four monitors in chunks of two
    world.clock.advance(60)
    world.feed(SITE, {"Website": Status.OPERATIONAL}, latency=80.0)
    after = last_check_blocks(scrape())
    assert after[0] is not before[0] and after[1] is before[1]  # SITE is the second monitor: the first chunk
    again = last_check_blocks(scrape())  # nobody checked since: nothing compressed again
    assert len(again) == 2 and all(a is b for a, b in zip(again, after, strict=True))
    world.outage()  # Acme's components change and an incident opens: every family moves
    assert gzip.decompress(gzipped(scrape())).count(b"downwatch_monitor_open_incident{") == len(MONITORS)


def test_the_log_of_checked_monitors_starts_over_and_a_reader_behind_it_takes_all(world: World) -> None:
    activity = Activity(clock=world.clock)
    moved, mark = activity.checked_since(None)
    assert moved is None  # a first ask: any monitor may have moved
    world.activity = activity
    world.feed(SITE, latency=10.0)
    moved, mark = activity.checked_since(mark)
    assert moved == [SITE.name]
    assert activity.checked_since(mark)[0] == []
    for _ in range(MOVES_PER_MONITOR * 1 + 1024 + 1):  # past what the log keeps for one monitor
        world.feed(SITE, latency=10.0)
    moved, later = activity.checked_since(mark)
    assert moved is None and later > mark
    world.feed(SITE, latency=10.0)
    assert activity.checked_since(later)[0] == [SITE.name]
