"""End to end: a secret in the prompt shows a DLP notice in `workjet` (tmux, 80x24)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.client.test_e2e_tmux import workjet_session


@pytest.mark.integration
def test_workjet_in_tmux_shows_a_dlp_notice_for_a_secret(tmp_path: Path, secret_service) -> None:
    with workjet_session(tmp_path, secret_service) as s:
        s.ask("deploy with AKIAZ7Q4HX2LMNB3KWPD and mail bob.smith@acme-corp.com")
        screen = s.tmux.wait_for("DLP · ")
        assert "2 items redacted: AWS_ACCESS_KEY_ID, EMAIL" in screen \
            or "2 items redacted: EMAIL, AWS_ACCESS_KEY_ID" in screen
        screen = s.tmux.wait_for("You said: deploy with")
        answer = screen.split("You said:")[-1]
        assert "AKIAZ7Q4HX2LMNB3KWPD" not in answer, "the provider must not see the key"
        print(screen)
