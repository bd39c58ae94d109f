"""One sync over many processes and machines: its units as jobs of a procrastinate queue in
PostgreSQL ([`jobs`][douyin_async.queue.jobs]), planned and loaded as a local sync plans and
loads days ([`load`][douyin_async.queue.load]), taken by workers
([`worker`][douyin_async.queue.worker]), or spread over local processes without a queue
([`local`][douyin_async.queue.local]). Needs the `queue` extra (procrastinate) for the queue.
"""
