"""Runners: run the per-document stages (:mod:`builder.stages`) over a corpus, in this
process or on a Dask cluster, and give the documents back in corpus order.

The documents are cut into partitions of consecutive documents (:func:`partitions`: at
most :data:`PARTITION_DOCUMENTS` documents or :data:`PARTITION_CHARS` characters of
input), fixed by the corpus alone; each partition goes through the stages as one task
(:func:`builder.stages.run_stages`), and the results are taken in partition order. So
every stage sees the same partitions whatever runs them, and every output, sentence ids
included, is the same with one process, ``--workers N`` or ``--scheduler ADDRESS``.

A stage with a window (cleaning learns boilerplate from the first 1,000 documents) splits
the run: the stages before it run on the partitions of the window, the stage learns from
what they observed (gathered here, in order), then the rest runs on them (on the workers,
where their results are) and on every later partition.

- :class:`LocalRunner`: in this process, one partition at a time (the default).
- :class:`DaskRunner`: on a Dask cluster: a local one of ``N`` worker processes
  (:func:`dask_runner` with ``workers``) or an existing one (``scheduler``). At most a few
  partitions per worker thread are in flight, so reading streams; a partition's task is
  retried (:data:`RETRIES`), and run again elsewhere when its worker dies; worker memory
  limits and restarts are Dask's own settings (``distributed.worker.memory.*``,
  ``distributed.scheduler.allowed-failures``). A document's failure is not a task's: it
  comes back with the partition (:class:`~builder.stages.Failure`).
"""

from __future__ import annotations

import contextlib
import threading
from collections import deque
from typing import Any, Callable, Iterable, Iterator, Optional, Sequence

from .allocator import import_spacy_without_torch
from .errors import ConfigError, ServiceError
from .stages import PartitionResult, Stage, Work, run_stages

#: A partition holds at most this many documents...
PARTITION_DOCUMENTS = 64
#: ...and closes once its input holds this many characters (bytes of a file read).
PARTITION_CHARS = 8_000_000
#: How many times the cluster runs a partition's task again when it raises (a worker dying
#: while running it is counted by Dask's ``distributed.scheduler.allowed-failures``).
RETRIES = 2
#: How long to wait for the first worker of an existing cluster, in seconds.
WORKER_TIMEOUT = 60
#: How many recent messages each of Dask's batched comms keeps for debugging
#: (``distributed.admin.low-level-log-length``, 1,000 by default). A message that starts a
#: partition's task holds the partition's documents: this process kept the input of about
#: the last thousand partitions (every document of a 100k-sentence corpus, 200 MiB more at
#: 300k), so a build keeps a few only.
MESSAGE_LOG = 8
DASK_EXTRA = 'the Dask runner needs the `dask` extra: pip install -e ".[dask]" (or pip install "eventds[dask]")'


def partitions(works: Iterable[Work], documents: int = PARTITION_DOCUMENTS, chars: int = PARTITION_CHARS) -> Iterator[list[Work]]:
    """Consecutive documents in partitions of at most ``documents`` documents, a partition
    closed early once its input reaches ``chars`` characters."""
    part: list[Work] = []
    size = 0
    for work in works:
        part.append(work)
        size += len(work.source.data) if work.source is not None else 0
        if len(part) >= documents or size >= chars:
            yield part
            part, size = [], 0
    if part:
        yield part


class Runner:
    """Runs stages over partitions; :meth:`run` is the same for every runner, which only
    says how a partition's task is started (:meth:`submit`) and finished (:meth:`result`)."""

    #: How many partitions run at once.
    workers: int = 1
    #: The size of a partition (:func:`partitions`).
    documents: int = PARTITION_DOCUMENTS
    chars: int = PARTITION_CHARS
    #: How many partitions may wait to be gathered beyond those running.
    ahead: int = 0

    def __enter__(self) -> "Runner":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        pass

    def finish(self) -> None:
        """No partition will be submitted any more: let the workers go while the gather steps
        run (what :meth:`close` does, in the background; :meth:`close` waits for it). A build
        calls it once its documents are through: a runner serves one build."""

    def describe(self) -> str:
        return "this process"

    def submit(self, what: str, fn: Callable[..., PartitionResult], *args: Any) -> Any:
        """Start ``fn(*args)`` for a partition (``what`` names it in errors); a handle of a
        partition started before may stand for its result among ``args``."""
        raise NotImplementedError

    def result(self, handle: Any) -> PartitionResult:
        raise NotImplementedError

    def observations(self, handle: Any) -> list[Any]:
        return self.result(handle).observations

    def cancel(self, handles: Iterable[Any]) -> None:
        pass

    def run(self, stages: Sequence[Stage], works: Iterable[Work]) -> Iterator[Work]:
        """Every document of ``works`` through ``stages``, in order (failed ones carry their
        :class:`~builder.stages.Failure`); the stages' counters and seconds are merged into ``stages``."""
        parts = enumerate(partitions(works, self.documents, self.chars))
        pending: deque[Any] = deque()
        window: list[Any] = []
        try:
            split = next((i for i, stage in enumerate(stages) if stage.window), None)
            if split is not None:
                learner = stages[split]
                names = []
                for rank, part in parts:
                    names.append(_name(rank, part))
                    window.append(self.submit(names[-1], run_stages, list(stages[:split]), part, rank, self.workers, learner, False))
                    if part[-1].index + 1 >= learner.window:
                        break
                learner.learn(o for handle in window for o in self.observations(handle))
                for rank, handle in enumerate(window):
                    pending.append(self.submit(names[rank], run_stages, list(stages[split:]), handle, rank, self.workers, None, True))
                window = []
            for rank, part in parts:
                pending.append(self.submit(_name(rank, part), run_stages, list(stages), part, rank, self.workers, None, True))
                while len(pending) > self.workers + self.ahead:
                    yield from self._gather(stages, pending.popleft())
            while pending:
                yield from self._gather(stages, pending.popleft())
        finally:
            self.cancel([*window, *pending])

    def _gather(self, stages: Sequence[Stage], handle: Any) -> Iterator[Work]:
        result = self.result(handle)
        for stage in stages:
            if stage.name in result.reports:
                stage.merge(result.reports[stage.name])
            stage.seconds += result.seconds.get(stage.name, 0.0)
        yield from result.works


def _name(rank: int, part: list[Work]) -> str:
    return f"partition {rank} (documents {part[0].index + 1} to {part[-1].index + 1}: {part[0].id} to {part[-1].id})"


class _Deferred:
    """A partition's task in this process, run when its result is first asked for."""

    def __init__(self, fn: Callable[..., PartitionResult], args: tuple):
        self.fn, self.args, self.value = fn, args, None

    def result(self) -> PartitionResult:
        if self.value is None:
            args = [a.result() if isinstance(a, _Deferred) else a for a in self.args]
            self.value = self.fn(*args)
            self.fn = self.args = None  # type: ignore[assignment]
        return self.value


class LocalRunner(Runner):
    """Every partition in this process, one after the other, as it is gathered."""

    workers = 1
    ahead = 0

    def submit(self, what: str, fn: Callable[..., PartitionResult], *args: Any) -> _Deferred:
        return _Deferred(fn, args)

    def result(self, handle: _Deferred) -> PartitionResult:
        return handle.result()


def _observations(result: PartitionResult) -> list[Any]:
    return result.observations


def _worker_check() -> str:
    from . import __version__

    return __version__


def _warm_up() -> None:
    """Import what the stages need (spaCy, the labeller's modules) while the first partitions are read."""
    from . import segment, stages  # noqa: F401
    from .weak import labeller  # noqa: F401


class DaskRunner(Runner):
    """Partitions as tasks of a Dask cluster (``client``), retried :data:`RETRIES` times,
    at most ``ahead`` per worker thread waiting beyond those running.

    Use :func:`dask_runner` to make one; closing it closes the client, and the cluster
    when the runner started it."""

    def __init__(self, client: Any, cluster: Any = None, ahead: int = 2):
        self.client, self.cluster = client, cluster
        self.workers = max(1, sum(client.nthreads().values()))
        self.ahead = ahead * self.workers
        self._names: dict[str, str] = {}
        self._submitted = 0
        self._closing: Optional[threading.Thread] = None
        where = "a local Dask cluster" if cluster is not None else f"the Dask cluster at {client.scheduler.address}"
        self._description = f"{where} ({self.workers} worker threads)"
        with contextlib.suppress(Exception):
            from distributed import fire_and_forget

            for worker in client.nthreads():
                fire_and_forget(client.submit(_warm_up, workers=[worker], pure=False))

    def describe(self) -> str:
        return self._description

    def close(self) -> None:
        self.finish()
        assert self._closing is not None
        self._closing.join()

    def finish(self) -> None:
        if self._closing is None:  # the client, and the cluster when this runner started it, closed in a thread of their own
            self._closing = threading.Thread(target=self._close_now, name="eventds-dask-close", daemon=True)
            self._closing.start()

    def _close_now(self) -> None:
        with contextlib.suppress(Exception):
            self.client.close()
        if self.cluster is not None:
            with contextlib.suppress(Exception):
                self.cluster.close()

    def submit(self, what: str, fn: Callable[..., PartitionResult], *args: Any) -> Any:
        if self._closing is not None:
            raise ConfigError("this Dask runner let its workers go when its build ended: make a runner for each build")
        self._submitted += 1
        future = self.client.submit(fn, *args, pure=False, retries=RETRIES, priority=-self._submitted)
        self._names[future.key] = what
        return future

    def observations(self, handle: Any) -> list[Any]:
        # only the observations come here; the partition stays on its worker for the next stages
        return self._wait(self.client.submit(_observations, handle, pure=False, retries=RETRIES), self._names.get(handle.key, "?"))

    def result(self, handle: Any) -> PartitionResult:
        return self._wait(handle, self._names.pop(handle.key, "?"))

    def _wait(self, future: Any, what: str) -> Any:
        import distributed

        try:
            return future.result()
        except (distributed.KilledWorker, distributed.CancelledError, distributed.TimeoutError, OSError) as e:
            raise ServiceError(f"the Dask cluster lost {what} after {RETRIES + 1} tries: {type(e).__name__}: {e}") from e

    def cancel(self, handles: Iterable[Any]) -> None:
        handles = list(handles)
        if handles:
            with contextlib.suppress(Exception):
                self.client.cancel(handles)


def dask_runner(workers: Optional[int] = None, scheduler: Optional[str] = None, spacy_without_torch: bool = False) -> DaskRunner:
    """A :class:`DaskRunner` on a local cluster of ``workers`` processes (one thread each),
    or on the existing cluster whose scheduler is at ``scheduler`` (``tcp://host:port``, or
    a scheduler file ``*.json``).

    With ``spacy_without_torch``, the local cluster's workers import spaCy without PyTorch
    (:func:`builder.allocator.import_spacy_without_torch`), for stages that run spaCy's blank
    pipeline. An existing cluster's workers are left as they are: they may run other work.

    Raises:
        ConfigError: Dask is not installed, both or neither of ``workers`` and ``scheduler``
            are given, or the workers cannot import this package.
        ServiceError: the scheduler cannot be reached or has no worker.
    """
    if (workers is None) == (scheduler is None):
        raise ConfigError("give either --workers N (a local Dask cluster) or --scheduler ADDRESS (an existing one), not both")
    try:
        import dask
        import distributed
    except ImportError as e:
        raise ConfigError(DASK_EXTRA) from e
    dask.config.set({"distributed.admin.low-level-log-length": MESSAGE_LOG})  # (for this process: read as its comms are made)
    if workers is not None:
        if workers < 1:
            raise ConfigError(f"--workers: expected at least 1 worker process, got {workers}")

        # Without the workers' statistical profiler (it costs them 14% of the build's time),
        # and the dashboard (when bokeh is installed) on a free port, not 8787 that another
        # cluster may hold; memory limits and restarts are Dask's settings.
        with dask.config.set({"distributed.worker.profile.enabled": False}):
            cluster = distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0")
        try:
            client = distributed.Client(cluster)
            if spacy_without_torch:
                client.run(import_spacy_without_torch)  # before any task brings spaCy in
            return DaskRunner(client, cluster)
        except BaseException:
            cluster.close()
            raise
    assert scheduler is not None
    try:
        if scheduler.endswith(".json"):
            client = distributed.Client(scheduler_file=scheduler, timeout=WORKER_TIMEOUT)
        else:
            client = distributed.Client(scheduler, timeout=WORKER_TIMEOUT)
    except (OSError, distributed.TimeoutError, ValueError) as e:
        raise ServiceError(f"--scheduler {scheduler}: cannot reach the Dask scheduler: {e}") from e
    try:
        client.wait_for_workers(1, timeout=WORKER_TIMEOUT)
    except (distributed.TimeoutError, TimeoutError) as e:
        client.close()
        raise ServiceError(f"--scheduler {scheduler}: no worker joined the cluster within {WORKER_TIMEOUT} s") from e
    runner = DaskRunner(client)
    _check_workers(runner, scheduler)
    return runner


def _check_workers(runner: DaskRunner, scheduler: str) -> None:
    """Every worker can import this package, at this version."""
    from . import __version__

    try:
        versions = runner.client.run(_worker_check)
    except Exception as e:
        runner.close()
        raise ConfigError(
            f"--scheduler {scheduler}: the workers cannot run the build ({type(e).__name__}: {e}); "
            "install eventds (with its models) where the workers run, or put this checkout on their PYTHONPATH"
        ) from e
    wrong = sorted(f"{w} has {v}" for w, v in versions.items() if v != __version__)
    if wrong:
        runner.close()
        raise ConfigError(f"--scheduler {scheduler}: workers run another eventds than {__version__}: {'; '.join(wrong)}")


def make_runner(workers: Optional[int] = None, scheduler: Optional[str] = None, spacy_without_torch: bool = False) -> Runner:
    """The runner the options name: :class:`LocalRunner` when neither is given (see
    :func:`dask_runner` for ``spacy_without_torch``)."""
    if workers is None and scheduler is None:
        return LocalRunner()
    return dask_runner(workers, scheduler, spacy_without_torch)
