"""The `denials` command.

The app, the worker, the services and the settings are imported inside the commands that use
them: a command that fails early (no Temporal server, a bad option) says so without waiting
for them, and `denials parse` loads neither the case model nor the settings that import it.
"""

from __future__ import annotations

import logging
import os
import sys
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from pydantic import ValidationError

from denials import check_command
from denials.x12_files import select_files

if TYPE_CHECKING:
    from app.settings import Settings

app = typer.Typer(no_args_is_help=True, help="Denials case manager.")


@app.command()
def up(
    port: Annotated[int | None, typer.Option(help="HTTP port (default 8000)")] = None,
    data_dir: Annotated[Path | None, typer.Option(help="Folder for the SQLite files")] = None,
    demo: Annotated[bool, typer.Option(help="Load demo users and cases")] = True,
) -> None:
    """Everything in one process: embedded Temporal dev server, worker and HTTP server."""
    from app.encryption import KeyConfigError
    from denials import launch
    from denials.payload_keys import load_keyring

    overrides: dict[str, object] = {}
    if port is not None:
        overrides["http_port"] = port
    if data_dir is not None:
        overrides["data_dir"] = data_dir
    settings = _settings(**overrides)
    try:  # makes the key file on first start, unless keys are configured
        load_keyring(settings, create_key_file=settings.temporal_address is None)
    except KeyConfigError as exc:
        raise typer.BadParameter(str(exc)) from exc
    _refuse_taken_ports(settings)

    def ready() -> None:
        typer.echo(
            f"Denials case manager on http://{settings.http_host}:{settings.http_port} "
            f"(Temporal Web UI {settings.temporal_ui_base}); Ctrl-C stops everything."
        )

    launch.run(settings, worker=True, api=True, demo=demo, on_ready=ready)


def _refuse_taken_ports(settings: Settings) -> None:
    """Stop before starting anything when a port the stack needs is taken: a Temporal server
    already on the gRPC port would otherwise answer in place of the one about to start (with
    other payload keys, other cases)."""
    from denials.embedded import port_taken

    wanted = [(settings.http_host, settings.http_port, "the web app and API", "DENIALS_HTTP_PORT")]
    if settings.metrics_port is not None:
        wanted.append(
            (settings.http_host, settings.metrics_port, "/metrics", "DENIALS_METRICS_PORT")
        )
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


def _settings(**overrides: object) -> Settings:
    from app.settings import Settings

    return Settings(**overrides)  # type: ignore[arg-type]


def _cluster_settings() -> Settings:
    settings = _settings()
    if settings.temporal_address is None:
        raise typer.BadParameter(
            "set TEMPORAL_ADDRESS (host:port of the Temporal server); 'denials up' embeds one"
        )
    return settings


def _external_settings() -> Settings:
    from app.encryption import KeyConfigError
    from denials.payload_keys import load_keyring

    settings = _cluster_settings()
    try:
        load_keyring(settings)  # refuse to start with a missing or malformed payload key
    except KeyConfigError as exc:
        raise typer.BadParameter(str(exc)) from exc
    return settings


@app.command()
def worker() -> None:
    """Run a worker against the Temporal server at TEMPORAL_ADDRESS."""
    _serve(worker=True, api=False)


@app.command()
def api() -> None:
    """Run the HTTP server against the Temporal server at TEMPORAL_ADDRESS."""
    _serve(worker=False, api=True)


def _serve(*, worker: bool, api: bool) -> None:
    from db.engine import SchemaNotCurrent
    from denials import launch

    try:
        launch.run(_external_settings(), worker=worker, api=api)
    except SchemaNotCurrent as exc:  # DENIALS_MIGRATE_ON_START=false and no migration yet
        typer.echo(f"not started: {exc}", err=True)
        raise typer.Exit(2) from None


@app.command("search-attributes")
def search_attributes(
    wait: Annotated[
        float,
        typer.Option(min=0, help="Seconds to wait for the server, then for the namespace"),
    ] = 120.0,
) -> None:
    """Register the case search attributes on the Temporal server at TEMPORAL_ADDRESS and exit
    (idempotent: the one-shot setup step of a cluster). It first waits for the server and the
    namespace, which another setup step may still be creating."""
    import asyncio

    from denials.temporal import NamespaceMissing, register_search_attributes

    settings = _cluster_settings()
    address = settings.temporal_address
    assert address is not None
    try:
        asyncio.run(register_search_attributes(address, settings.temporal_namespace, wait=wait))
    except NamespaceMissing as exc:
        typer.echo(f"search attributes not registered: {exc}", err=True)
        raise typer.Exit(2) from None
    except RuntimeError:  # connect_when_up gave up: nothing answered
        typer.echo(
            f"search attributes not registered: no Temporal server answered at {address} "
            f"within {wait:g} s (TEMPORAL_ADDRESS)",
            err=True,
        )
        raise typer.Exit(2) from None
    typer.echo(f"search attributes are registered in namespace {settings.temporal_namespace}")


@app.command()
def parse(
    files: Annotated[list[Path], typer.Argument(help="X12 files (835, 277CA, 999)")],
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per file")] = False,
    validate: Annotated[
        bool,
        typer.Option(
            help="Also check the implementation guide with pyx12, in another process while the "
            "files are parsed (about fifteen times slower than the parse)"
        ),
    ] = False,
) -> None:
    """Parse and classify X12 files without Temporal; exit 1 if any file has an error. A
    folder stands for the X12 files in it: the others are skipped and listed."""
    from app.rule_files import RuleFileSettings
    from denials.parse_command import parse_command
    from domain.classification import ClassificationFileError
    from domain.payer_rules import RulesFileError
    from domain.rulebook import Rulebook

    chosen = _x12_files(files)
    settings = RuleFileSettings()  # not Settings: it would import the case model
    try:
        rulebook = Rulebook.load(settings.classification_override_file, settings.payer_rules_file)
    except (ClassificationFileError, RulesFileError) as exc:  # each names the file and line
        typer.echo(f"nothing parsed: {exc}", err=True)
        raise typer.Exit(2) from None
    parse_command(chosen, rulebook, as_json=as_json, validate=validate)


def _x12_files(paths: list[Path]) -> list[Path]:
    """The files to read; those found in a folder that are not X12 are listed on stderr (so
    --json output stays one object per line)."""
    try:
        chosen = select_files(paths)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    if chosen.skipped:
        typer.echo(
            f"skipped {len(chosen.skipped)} file(s) that are not X12 (they do not start with "
            "ISA or ST):",
            err=True,
        )
        for path in chosen.skipped:
            typer.echo(f"  {path}", err=True)
    return chosen.files


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
    embedded server of 'denials up'). A folder stands for the X12 files in it: the others are
    skipped and listed."""
    if not paths and not resume:
        raise typer.BadParameter("name files or folders to ingest, or use --resume")
    files = _x12_files(paths or [])
    if not files and not resume:
        typer.echo("no X12 file to ingest")
        return
    from denials.reachability import temporal_problem

    settings = _settings()
    problem = temporal_problem(settings)
    if problem is not None:
        typer.echo(f"ingest stopped before reading anything: {problem}", err=True)
        raise typer.Exit(2)
    from denials import x12_commands

    x12_commands.ingest_command(files, settings, user, resume=resume)


app.command("check")(check_command.check)

keys_app = typer.Typer(no_args_is_help=True, help="Payload encryption keys.")
app.add_typer(keys_app, name="keys")


@keys_app.command("new")
def new_key(
    key_id: Annotated[
        str | None,
        typer.Option("--id", help="Key id: letters, digits, '.', '_' or '-' (default k<date>)"),
    ] = None,
) -> None:
    """Print a new AES-256 payload key as `id:base64key`, an entry for DENIALS_PAYLOAD_KEYS."""
    from app.encryption import KeyConfigError, Keyring

    try:
        entry = Keyring.new_entry(key_id or f"k{datetime.now(UTC):%Y%m%d}")
    except KeyConfigError as exc:
        raise typer.BadParameter(str(exc), param_hint="--id") from exc
    typer.echo(entry)
    typer.echo(
        "Keep it secret and backed up: without it, payloads it encrypted cannot be read. Put it "
        "first in DENIALS_PAYLOAD_KEYS (comma-separated, e.g. DENIALS_PAYLOAD_KEYS=<new>,<old>) "
        "to encrypt with it; keep the old keys listed while open cases need them.",
        err=True,
    )


users_app = typer.Typer(no_args_is_help=True, help="Manage users (outside demo mode).")
app.add_typer(users_app, name="users")


class StaffRole(StrEnum):
    """The roles `users create` offers: a person's, never `system` (the product's own). The
    values of domain.case.Role's, written out (tests/cli/test_first_use.py holds them to
    services.users.STAFF_ROLES): importing domain.case would slow every command."""

    BILLER = "biller"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"
    PHYSICIAN = "physician"


PASSWORD_TRIES = 3


@users_app.command("create")
def create_user(
    user_id: Annotated[str, typer.Argument(help="Lower-case id, e.g. jdoe")],
    role: Annotated[StaffRole, typer.Option(help="The user's role")],
    name: Annotated[str, typer.Option(help="Display name")],
    email: Annotated[
        str | None, typer.Option(help="Where notifications are e-mailed (else in the app only)")
    ] = None,
) -> None:
    """Create a user; the password is asked for (at least 12 characters, not an easy guess),
    never an option. The id, role and name are checked first, and the password before it is
    asked again."""
    from sqlmodel import Session

    from denials.bootstrap import prepare_database
    from domain.case import Role
    from services.errors import NotFound, ServiceError
    from services.users import NewUser, NewUserIdentity, UserService

    try:
        identity = NewUserIdentity(
            user_id=user_id, display_name=name, role=Role(role.value), email=email
        )
    except ValidationError as exc:
        raise typer.BadParameter(_problems(exc)) from exc
    engine = prepare_database(_settings())
    try:
        with Session(engine) as session:
            users = UserService(session)
            try:
                users.get(user_id)
                raise typer.BadParameter(f"user '{user_id}' already exists")
            except NotFound:
                pass
            password = _new_password(user_id, name)
            users.create(NewUser(**identity.model_dump(), password=password))
    except ValidationError as exc:
        raise typer.BadParameter(_problems(exc)) from exc
    except ServiceError as exc:
        raise typer.BadParameter(exc.message) from exc
    finally:
        engine.dispose()
    typer.echo(f"created {role.value} {user_id}")


@users_app.command("set-email")
def set_email(
    user_id: Annotated[str, typer.Argument(help="The user's id")],
    email: Annotated[str, typer.Argument(help="Address for notifications; '' removes it")],
) -> None:
    """Set (or remove) the address a user's notifications are e-mailed to."""
    from sqlmodel import Session

    from denials.bootstrap import prepare_database
    from domain.case import Actor, Role
    from services.errors import ServiceError
    from services.users import UserChange, UserService

    try:
        change = UserChange(email=email)
    except ValidationError as exc:
        raise typer.BadParameter(_problems(exc)) from exc
    engine = prepare_database(_settings())
    try:
        with Session(engine) as session:
            UserService(session).change(user_id, change, by=Actor(user_id="cli", role=Role.ADMIN))
    except ServiceError as exc:
        raise typer.BadParameter(exc.message) from exc
    finally:
        engine.dispose()
    typer.echo(f"{user_id}: {'e-mail ' + email if email else 'no e-mail'}")


_FIELD_NAMES = {
    "user_id": "user id",
    "display_name": "--name",
    "role": "--role",
    "email": "--email",
}


def _problems(exc: ValidationError) -> str:
    """Each refused field in the command's words, without pydantic's 'Value error, '."""
    return "; ".join(
        f"{_FIELD_NAMES.get(str(e['loc'][0]), str(e['loc'][0])) if e['loc'] else 'input'}: "
        f"{e['msg'].removeprefix('Value error, ')}"
        for e in exc.errors()
    )


def _new_password(user_id: str, name: str) -> str:
    """Ask for a password until one passes the policy and is typed the same twice."""
    from domain.sign_in import password_problem

    for _ in range(PASSWORD_TRIES):
        password: str = typer.prompt("Password", hide_input=True)
        problem = password_problem(password, [user_id, name])
        if problem is not None:
            typer.echo(f"password refused: {problem}", err=True)
            continue
        if typer.prompt("Repeat the password", hide_input=True) == password:
            return password
        typer.echo("the two passwords differ", err=True)
    raise typer.BadParameter(f"no password set after {PASSWORD_TRIES} tries: nothing was created")


@users_app.command("list")
def list_users() -> None:
    from sqlmodel import Session

    from denials.bootstrap import prepare_database
    from services.users import UserService

    engine = prepare_database(_settings())
    with Session(engine) as session:
        for user in UserService(session).list():
            state = "active" if user.active else "inactive"
            typer.echo(f"{user.user_id:20} {user.role:11} {state:9} {user.display_name}")
    engine.dispose()


@app.command()
def migrate() -> None:
    """Apply database migrations (DATABASE_URL) and exit."""
    from denials.bootstrap import prepare_database

    # Always migrates: DENIALS_MIGRATE_ON_START=false is for the other commands.
    prepare_database(_settings(), migrate_schema=True).dispose()
    typer.echo("database schema is up to date")


def main() -> None:
    """The console script. It ends without interpreter teardown, where the Temporal client's
    Rust threads can abort a finalizing interpreter (temporalio/sdk-python#300); everything
    the command does, including its own cleanup, has finished by then."""
    try:
        app()
        code = 0
    except ValidationError as exc:
        from app.rule_files import RuleFileSettings
        from app.settings import Settings, settings_problem

        if exc.title not in (Settings.__name__, RuleFileSettings.__name__):
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
