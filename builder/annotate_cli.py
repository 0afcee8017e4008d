"""``eventds annotate``: run Label Studio, push weak labels to it, pull the corrections back.

Thin wrappers around :mod:`builder.studio`; errors end the command with the message and the
error's exit code (2 unreadable input, 1 invalid content, 3 configuration, 4 Label Studio).
"""

from __future__ import annotations

import signal
import time
from pathlib import Path
from typing import Any, Optional

import typer

from .errors import EventdsError, ServiceError

annotate_app = typer.Typer(
    name="annotate",
    help="Label Studio: serve, push weak labels, pull corrections.",
    no_args_is_help=True,
    add_completion=False,
)
from .console import err, out
from .console import fail as _fail
from .console import summary_table as _table

WORKSPACE_HELP = "Workspace folder; the server keeps its data and credentials in WORKSPACE/label-studio/."




def _raise_interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


@annotate_app.command()
def serve(
    port: int = typer.Option(8080, "--port", help="Port to listen on (bound to 127.0.0.1)."),
    workspace: Path = typer.Option(Path("workspace"), "--workspace", help=WORKSPACE_HELP),
    backend_port: int = typer.Option(
        9090, "--backend-port", min=0,
        help="Also run the ML backend (as `eventds annotate backend`) on this port of 127.0.0.1; 0: do not.",
    ),
    project: str = typer.Option("eventds", "--project", help="The project the backend is registered with once it exists."),
) -> None:
    """Run Label Studio on 127.0.0.1 until Ctrl-C, with the ML backend beside it.

    The first start creates the database, an admin account and an API token, saved in
    WORKSPACE/label-studio/credentials.json (readable by you only). Log in with the user and
    password from that file. The ML backend (see `eventds annotate backend`) is registered
    with the project now if it exists, else by the first `annotate push`.
    """
    from .studio.credentials import credentials_path, data_dir
    from .studio.server import start_server
    from .studio.serving import register_with, start_backend, stop_backend

    signal.signal(signal.SIGTERM, _raise_interrupt)
    server = backend = None
    try:
        err.print(f"starting Label Studio (the first start takes about 30 s; log: {data_dir(workspace) / 'server.log'})")
        server = start_server(workspace, port)
        out.print(f"Label Studio is running at {server.url}", highlight=False)
        out.print(f"login and API token: {credentials_path(workspace)}", highlight=False)
        if backend_port:
            try:
                backend = start_backend(workspace, backend_port)
            except OSError as e:
                err.print(f"the ML backend cannot listen on 127.0.0.1:{backend_port} ({e.strerror or e}): serving without it", highlight=False)
            else:
                out.print(f"ML backend at {backend.url}", highlight=False)
                if (pid := register_with(workspace, backend, project)) is not None:
                    out.print(f"registered with project {project!r} (id {pid})", highlight=False)
        out.print("press Ctrl-C to stop", highlight=False)
        while server.alive():
            time.sleep(0.5)
        raise ServiceError(f"Label Studio exited with code {server.process.returncode}; see {server.log_path}")
    except KeyboardInterrupt:
        err.print("stopping Label Studio")
    except EventdsError as e:
        _fail(e)
    finally:
        if backend is not None:
            stop_backend(workspace, backend)
        if server is not None:
            server.stop()


@annotate_app.command()
def push(
    records: Path = typer.Argument(Path("build/records.jsonl"), help="Sentence records with weak events."),
    project: str = typer.Option("eventds", "--project", help="Project title (created if missing)."),
    batch_size: int = typer.Option(100, "--batch-size", min=1, help="Tasks per import request."),
    with_human: bool = typer.Option(
        False, "--with-human",
        help="Also send the events of corrected and adjudicated records as annotations, for review; "
        "a later pull gives back the same human layer while they are unedited.",
    ),
    overlap: float = typer.Option(
        0.2, "--overlap", min=0.0, max=1.0,
        help="Share of tasks annotated by two annotators (Label Studio's overlap), for agreement; 0: one annotation per task.",
    ),
    workspace: Path = typer.Option(Path("workspace"), "--workspace", help=WORKSPACE_HELP),
) -> None:
    """Import one task per sentence with its weak events as predictions.

    The records are checked as `eventds validate` checks them, and every prediction as pull
    would check it, before anything is sent. Safe to repeat: tasks are found again by
    sentence id, predictions of the same model version are replaced, human annotations are
    never sent twice, and an interrupted push completes when run again.

    Tasks are sent highest priority first (uncertain pre-annotations, words no annotated
    sentence has), each with its neighbouring sentences as context. When the workspace's ML
    backend is running (`eventds annotate backend`), it is registered with the project.

    Exits with 1 when a human annotation pushed earlier was edited or deleted in Label
    Studio (it is listed and left alone: pull first).

    The server is found from WORKSPACE/label-studio/credentials.json, or from
    LABEL_STUDIO_URL and LABEL_STUDIO_API_KEY when both are set.
    """
    from .studio.client import StudioClient
    from .studio.credentials import load_secret
    from .studio.push import push as run
    from .studio.serving import running_endpoint

    try:
        url = running_endpoint(workspace)
        with StudioClient.connect(workspace) as client, err.status("pushing") as status:
            stats = run(
                client, records, project, batch_size,
                progress=lambda stage, done, total: status.update(f"pushing: {stage} {done}/{total}"),
                with_human=with_human,
                backend=(url, load_secret(workspace)) if url else None,
                overlap=overlap,
            )
    except EventdsError as e:
        _fail(e)
    _table("push", stats.rows())
    if stats.human_not_sent:
        for line in stats.human_not_sent:
            err.print(f"not sent: {line}", highlight=False, markup=False, soft_wrap=True)
        raise typer.Exit(1)


@annotate_app.command()
def pull(
    project: str = typer.Option("eventds", "--project", help="Project title."),
    out_dir: Path = typer.Option(Path("annotations"), "--out", help="Folder of the human layer (human.jsonl, annotators.jsonl, export.json)."),
    drafts: bool = typer.Option(False, "--drafts", help="Use drafts (unsubmitted work) as annotations too."),
    replace: bool = typer.Option(
        False, "--replace",
        help="Accept removals and downgrades of existing human annotations (refused otherwise); "
        "sentences this project does not touch are still kept.",
    ),
    workspace: Path = typer.Option(Path("workspace"), "--workspace", help=WORKSPACE_HELP),
) -> None:
    """Export the annotations and merge them into the human layer that `eventds build` merges.

    Merges by sentence id into OUT/human.jsonl (one annotation per sentence: ground truth,
    else the most recent), OUT/annotators.jsonl (each annotator's events per sentence) and
    OUT/export.json (one Label Studio task per sentence, from the export its human record
    came from): new annotations are added, changed ones replaced, sentences this project
    did not annotate kept. A pull that would remove a human annotation (its task skipped,
    or the human annotation pushed to it deleted) or downgrade one (adjudicated ->
    corrected) stops, lists them and writes nothing, unless --replace.

    The files are replaced together (old or new even if the pull is killed); those replaced
    are kept in OUT/.previous/<time>/. Any invalid region stops the pull and nothing is
    written. The server is found as for `push`.
    """
    from .studio.client import StudioClient
    from .studio.pull import pull as run

    try:
        with StudioClient.connect(workspace) as client:
            stats = run(client, project, out_dir, drafts, replace=replace)
    except EventdsError as e:
        _fail(e)
    if stats.recovered:
        err.print(f"{out_dir}: {stats.recovered} first", highlight=False)
    if not stats.annotated and not stats.written:
        err.print("no completed annotations yet: nothing written", highlight=False)
    elif not stats.written:
        err.print("the human layer is up to date: nothing written", highlight=False)
    _table("pull", stats.rows() + [("output", str(out_dir) if stats.written else "-")])
    for what, sid in stats.changes():
        out.print(f"{what}: {sid}", highlight=False, markup=False, soft_wrap=True)
    if stats.previous:
        err.print(f"the files this pull replaced are in {stats.previous}", highlight=False, soft_wrap=True)


@annotate_app.command()
def config(
    apply: bool = typer.Option(False, "--apply", help="Create the project or update its config (refused if it would orphan annotations)."),
    project: str = typer.Option("eventds", "--project", help="Project title (with --apply)."),
    output: Optional[Path] = typer.Option(None, "-o", "--output", help="Write the XML to this file instead of stdout."),
    overlap: float = typer.Option(
        0.2, "--overlap", min=0.0, max=1.0,
        help="Share of tasks annotated by two annotators (Label Studio's overlap), for agreement; 0: one annotation per task.",
    ),
    workspace: Path = typer.Option(Path("workspace"), "--workspace", help=WORKSPACE_HELP),
) -> None:
    """Print the labelling interface generated from the label set (or apply it with --apply)."""
    from .io import atomic_open
    from .studio.client import StudioClient
    from .studio.interface import label_config
    from .studio.project import ensure_project

    xml = label_config()
    try:
        if apply:
            with StudioClient.connect(workspace) as client:
                p = ensure_project(client, project, xml, overlap=overlap)
            err.print(f"project {project!r} (id {p['id']}) uses the generated config", highlight=False)
        if output:
            with atomic_open(output) as fh:
                fh.write(xml + "\n")
        elif not apply:
            out.print(xml, highlight=False, markup=False, soft_wrap=True)
    except EventdsError as e:
        _fail(e)


@annotate_app.command()
def backend(
    port: int = typer.Option(9090, "--port", help="Port to listen on (bound to 127.0.0.1)."),
    workspace: Path = typer.Option(Path("workspace"), "--workspace", help=WORKSPACE_HELP + " The backend keeps its state in WORKSPACE/backend/."),
    project: Optional[str] = typer.Option(
        None, "--project",
        help="Register with this Label Studio project on start (POST /api/ml, with the webhook that carries annotations). "
        "Without it, `annotate push` registers a running backend with the project it pushes to.",
    ),
    debounce: float = typer.Option(3.0, "--debounce", min=0.0, help="Seconds without a new annotation before retraining starts."),
    weak_config: Optional[Path] = typer.Option(None, "--weak-config", help="The labelling functions to run (weak_functions.json)."),
) -> None:
    """Serve Label Studio's ML backend API on 127.0.0.1 until Ctrl-C.

    /predict pre-annotates any task (also those imported in the web UI) with the weak labels
    and what annotators corrected so far; submitted and updated annotations arrive by webhook,
    are kept in WORKSPACE/backend/human.jsonl and retrain the corrections memory in the
    background (debounced), after which every unannotated task gets a new prediction and
    priority. /setup, /webhook and /train need the secret in WORKSPACE/backend/secret.json
    (HTTP basic auth; registering gives it to Label Studio). The state is on disk: a restarted
    backend carries on.
    """
    from .studio.serving import register_with, start_backend, stop_backend

    signal.signal(signal.SIGTERM, _raise_interrupt)
    server = None
    try:
        server = start_backend(workspace, port, config=weak_config, debounce=debounce)
        out.print(f"ML backend for Label Studio at {server.url} (model {server.backend.model_version})", highlight=False)
        if project:
            if (pid := register_with(workspace, server, project)) is None:
                raise ServiceError(f"no Label Studio project titled {project!r}; push to it first (it registers the backend too)")
            out.print(f"registered with project {project!r} (id {pid})", highlight=False)
        out.print("press Ctrl-C to stop", highlight=False)
        while True:
            time.sleep(0.5)
    except KeyboardInterrupt:
        err.print("stopping the ML backend")
    except OSError as e:
        _fail(ServiceError(f"cannot listen on 127.0.0.1:{port}: {e.strerror or e}"))
    except EventdsError as e:
        _fail(e)
    finally:
        if server is not None:
            stop_backend(workspace, server)
