"""The `denials` command."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from sqlmodel import Session

from denials import stack, x12_commands
from denials.config import Settings, settings_problem
from denials.embedded import port_taken
from denials.encryption import KeyConfigError
from denials.payload_keys import load_keyring
from denials.temporal import register_search_attributes
from domain.case import Role
from services.errors import ServiceError
from services.users import NewUser, UserService

app = typer.Typer(no_args_is_help=True, help="Denials case manager.")


@app.command()
def up(
    port: Annotated[int | None, typer.Option(help="HTTP port (default 8000)")] = None,
    data_dir: Annotated[Path | None, typer.Option(help="Folder for the SQLite files")] = None,
    demo: Annotated[bool, typer.Option(help="Load demo users and cases")] = True,
) -> None:
    """Everything in one process: embedded Temporal dev server, worker and HTTP server."""
    overrides: dict[str, object] = {}
    if port is not None:
        overrides["http_port"] = port
    if data_dir is not None:
        overrides["data_dir"] = data_dir
    settings = Settings(**overrides)  # type: ignore[arg-type]
    try:  # makes the key file on first start, unless keys are configured
        load_keyring(settings, create_key_file=settings.temporal_address is None)
    except KeyConfigError as exc:
        raise typer.BadParameter(str(exc)) from exc
    _refuse_taken_ports(settings)
    typer.echo(
        f"Denials case manager on http://{settings.http_host}:{settings.http_port} "
        f"(Temporal Web UI {settings.temporal_ui_base}); Ctrl-C stops everything."
    )
    stack.run(settings, worker=True, api=True, demo=demo)


def _refuse_taken_ports(settings: Settings) -> None:
    """Stop before starting anything when a port the stack needs is taken: a Temporal server
    already on the gRPC port would otherwise answer in place of the one about to start (with
    other payload keys, other cases)."""
    wanted = [(settings.http_host, settings.http_port, "the web app and API", "DENIALS_HTTP_PORT")]
    if settings.temporal_address is None:
        wanted += [
            (
                "127.0.0.1",
                settings.temporal_port,
                "the embedded Temporal server",
                "DENIALS_TEMPORAL_PORT",
            ),
            (
                "127.0.0.1",
                settings.temporal_ui_port,
                "the Temporal Web UI",
                "DENIALS_TEMPORAL_UI_PORT",
            ),
        ]
    for host, port, what, setting in wanted:
        if port_taken(host, port):
            typer.echo(
                f"port {port} ({what}) is already in use, perhaps by another 'denials up' or "
                f"Temporal server: stop it, or choose another port with {setting}",
                err=True,
            )
            raise typer.Exit(2)


def _cluster_settings() -> Settings:
    settings = Settings()
    if settings.temporal_address is None:
        raise typer.BadParameter(
            "set TEMPORAL_ADDRESS (host:port of the Temporal server); 'denials up' embeds one"
        )
    return settings


def _external_settings() -> Settings:
    settings = _cluster_settings()
    try:
        load_keyring(settings)  # refuse to start with a missing or malformed payload key
    except KeyConfigError as exc:
        raise typer.BadParameter(str(exc)) from exc
    return settings


@app.command()
def worker() -> None:
    """Run a worker against the Temporal server at TEMPORAL_ADDRESS."""
    stack.run(_external_settings(), worker=True, api=False)


@app.command()
def api() -> None:
    """Run the HTTP server against the Temporal server at TEMPORAL_ADDRESS."""
    stack.run(_external_settings(), worker=False, api=True)


@app.command("search-attributes")
def search_attributes() -> None:
    """Register the case search attributes on the Temporal server at TEMPORAL_ADDRESS and exit
    (idempotent: the one-shot setup step of a cluster)."""
    settings = _cluster_settings()
    address = settings.temporal_address
    assert address is not None
    asyncio.run(register_search_attributes(address, settings.temporal_namespace))
    typer.echo(f"search attributes are registered in namespace {settings.temporal_namespace}")


@app.command()
def parse(
    files: Annotated[list[Path], typer.Argument(help="X12 files (835, 277CA, 999)")],
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per file")] = False,
    validate: Annotated[
        bool, typer.Option(help="Also check the implementation guide with pyx12")
    ] = True,
) -> None:
    """Parse and classify X12 files without Temporal; exit 1 if any file has an error."""
    x12_commands.parse_command(files, as_json, validate)


@app.command()
def ingest(
    paths: Annotated[list[Path] | None, typer.Argument(help="X12 files or folders")] = None,
    user: Annotated[str, typer.Option(help="Recorded as who ingested the files")] = "cli",
    resume: Annotated[
        bool,
        typer.Option(
            help="Also ingest again the stored files whose ingest did not finish (status "
            "received or incomplete, received over 10 minutes ago)"
        ),
    ] = False,
) -> None:
    """Ingest X12 files: open cases, answer open ones (Temporal at TEMPORAL_ADDRESS, else the
    embedded server of 'denials up')."""
    if not paths and not resume:
        raise typer.BadParameter("name files or folders to ingest, or use --resume")
    x12_commands.ingest_command(paths or [], user, resume=resume)


users_app = typer.Typer(no_args_is_help=True, help="Manage users (outside demo mode).")
app.add_typer(users_app, name="users")


@users_app.command("create")
def create_user(
    user_id: Annotated[str, typer.Argument(help="Lower-case id, e.g. jdoe")],
    role: Annotated[Role, typer.Option(help="biller, supervisor, admin or physician")],
    name: Annotated[str, typer.Option(help="Display name")],
) -> None:
    """Create a user; the password is asked for (at least 12 characters), never an option."""
    password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    engine = stack.prepare_database(Settings())
    try:
        with Session(engine) as session:
            UserService(session).create(
                NewUser(user_id=user_id, display_name=name, role=role, password=password)
            )
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise typer.BadParameter(problems) from exc
    except ServiceError as exc:
        raise typer.BadParameter(exc.message) from exc
    finally:
        engine.dispose()
    typer.echo(f"created {role.value} {user_id}")


@users_app.command("list")
def list_users() -> None:
    engine = stack.prepare_database(Settings())
    with Session(engine) as session:
        for user in UserService(session).list():
            state = "active" if user.active else "inactive"
            typer.echo(f"{user.user_id:20} {user.role:11} {state:9} {user.display_name}")
    engine.dispose()


@app.command()
def migrate() -> None:
    """Apply database migrations (DATABASE_URL) and exit."""
    stack.prepare_database(Settings()).dispose()
    typer.echo("database schema is up to date")


def main() -> None:
    """The console script. It ends without interpreter teardown, where the Temporal client's
    Rust threads can abort a finalizing interpreter (temporalio/sdk-python#300); everything
    the command does, including its own cleanup, has finished by then."""
    try:
        app()
        code = 0
    except ValidationError as exc:
        if exc.title != Settings.__name__:
            raise
        print(settings_problem(exc), file=sys.stderr)
        code = 2
    except SystemExit as exit_:
        if isinstance(exit_.code, str):
            print(exit_.code, file=sys.stderr)
        code = exit_.code if isinstance(exit_.code, int) else int(exit_.code is not None)
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
