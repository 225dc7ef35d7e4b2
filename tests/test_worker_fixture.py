"""The worker fixture's idle check reads the worker's log: received task messages minus finished runs."""

from tests.conftest import WorkerProcess

A = "8b949c74-6e57-495c-9dd1-d1d951a0983a"
B = "99a3b5c4-5a6d-4074-87a3-bb9bfe43c733"


def test_tasks_in_hand_are_received_messages_whose_run_has_not_ended(tmp_path):
    log = tmp_path / "worker.log"
    log.write_text(f"earlier worker: Task x.y[{B}] received\n")
    worker = WorkerProcess(env={}, log_path=log, queues="default")
    worker.log_offset = log.stat().st_size  # what start() records: an earlier run's lines do not count
    with log.open("a") as fh:
        fh.write(f"[INFO/MainProcess] Task annotator.corpus.tasks.import_batch_task[{A}] received\n")
        fh.write(f"[INFO/ForkPoolWorker-1] Task annotator.corpus.tasks.import_batch_task[{A}] retry: Retry in 5s\n")
    assert worker.tasks_in_hand() == set()

    with log.open("a") as fh:  # the retry comes back as a new message with the same id
        fh.write(f"[INFO/MainProcess] Task annotator.corpus.tasks.import_batch_task[{A}] received\n")
        fh.write(f"[INFO/MainProcess] Task annotator.corpus.tasks.story_clusters_update_task[{B}] received\n")
        fh.write(
            f"[ERROR/ForkPoolWorker-2] Task annotator.corpus.tasks.story_clusters_update_task[{B}] raised unexpected\n"
        )
    assert worker.tasks_in_hand() == {A}
