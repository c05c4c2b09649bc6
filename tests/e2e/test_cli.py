"""The `apuri` command as an operator runs it: one-line errors, exit status 2, no traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

APURI = [sys.executable, "-m", "bot.cli"]
ROOT = Path(__file__).resolve().parents[2]


def run(args, tmp_path, **env):
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("TELEGRAM_", "APURI_"))
    }
    environment |= {"APURI_DATABASE": str(tmp_path / "apuri.sqlite3"), **env}
    return subprocess.run(
        [*APURI, *args],
        cwd=tmp_path,  # no .env of the developer's
        env=environment | {"PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_run_without_a_token_explains_botfather_in_one_line(tmp_path):
    result = run(["run"], tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "@BotFather" in lines[0] and ".env" in lines[0]
    assert "Traceback" not in result.stderr


def test_an_invalid_setting_is_named(tmp_path):
    result = run(["run"], tmp_path, APURI_TIMEZONE="Moon/Base", TELEGRAM_BOT_TOKEN="1:x")
    assert result.returncode == 2
    assert "APURI_TIMEZONE" in result.stderr and "TELEGRAM_BOT_TOKEN" in result.stderr
    assert "Traceback" not in result.stderr


def test_migrate_then_invite_prints_the_code_last(tmp_path):
    migrated = run(["migrate"], tmp_path)
    assert migrated.returncode == 0, migrated.stderr
    assert "6 migration(s) applied" in migrated.stdout
    again = run(["migrate"], tmp_path)
    assert "0 migration(s) applied" in again.stdout

    invite = run(["invite", "--role", "coordinator", "--name", "Aino"], tmp_path)
    assert invite.returncode == 0, invite.stderr
    lines = invite.stdout.strip().splitlines()
    assert 'coordinator "Aino"' in lines[0]
    assert lines[-2] == f"/start {lines[-1]}"  # no username known yet: the command to send
    assert len(lines[-1]) >= 22


def test_a_partner_invite_without_organisation_is_refused(tmp_path):
    result = run(["invite", "--role", "partner"], tmp_path)
    assert result.returncode == 2
    assert "needs --organisation" in result.stderr
    assert "Traceback" not in result.stderr


def test_an_unknown_role_is_refused_by_the_parser(tmp_path):
    result = run(["invite", "--role", "king"], tmp_path)
    assert result.returncode == 2
    assert "invalid choice" in result.stderr


GOOD_FORM = """\
id: home_visit
version: 2
task_kinds: [home_visit, conversation_help]
title: {fi: Käynti, sv: Besök, en: Visit}
questions:
  - id: contact
    type: single
    label: {fi: 'Tapasitko?', sv: 'Träffade du?', en: 'Did you meet?'}
    choices:
      - {value: met, label: {fi: Tapasin, sv: Träffade, en: Met}}
      - {value: not_at_home, label: {fi: Ei kotona, sv: Inte hemma, en: Not at home}}
  - id: note
    type: text
    required: false
    relevant: "contact = 'met'"
    label: {fi: Huomio, sv: Anteckning, en: Note}
"""


def test_forms_check_validates_a_file_and_names_the_problem(tmp_path):
    good = tmp_path / "visit.yaml"
    good.write_text(GOOD_FORM, encoding="utf-8")
    result = run(["forms", "check", str(good)], tmp_path)
    assert result.returncode == 0, result.stderr
    assert "home_visit" in result.stdout and "2 questions" in result.stdout

    broken = tmp_path / "broken.yaml"
    broken.write_text(GOOD_FORM.replace("contact = 'met'", "contact = 'mett'"), encoding="utf-8")
    result = run(["forms", "check", str(broken)], tmp_path)
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert "broken.yaml" in line and "'note'" in line and "mett" in line
    assert "Traceback" not in result.stderr


def test_forms_check_without_files_checks_every_form_in_use(tmp_path):
    result = run(["forms", "check"], tmp_path)
    assert result.returncode == 0, result.stderr
    for form in ("home_visit", "phone_check", "errand", "delivery"):
        assert f"'{form}'" in result.stdout


def test_a_broken_custom_form_stops_the_start_naming_file_and_question(tmp_path):
    forms = tmp_path / "forms"
    forms.mkdir()
    (forms / "visit.yaml").write_text(
        GOOD_FORM.replace("type: text", "type: txt"), encoding="utf-8"
    )
    result = run(
        ["run"],
        tmp_path,
        TELEGRAM_BOT_TOKEN="123456:" + "A" * 30,
        TELEGRAM_API_BASE_URL="http://127.0.0.1:9/bot",
        APURI_FORMS_DIR=str(forms),
    )
    assert result.returncode == 2
    assert "visit.yaml" in result.stderr and "'note'" in result.stderr
    assert "Traceback" not in result.stderr
