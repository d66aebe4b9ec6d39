"""`python -m reverse.notifications.eml` shows what the file backend wrote, decoded."""

from __future__ import annotations

from reverse.notifications import eml
from reverse.notifications.mail import build_message, send


def test_the_mail_folder_reads_as_plain_japanese(ctx, mail_folder, capsys):
    send(
        build_message(
            "hanako@example.jp",
            "お申し込みを承りました（R12345-67890）",
            "山田 花子様\n\n受付番号: R12345-67890\n",
            message_id="<rma-1-created@reverse.local>",
        )
    )

    assert eml.main([str(mail_folder)]) == 0
    shown = capsys.readouterr().out
    assert "==> rma-1-created_reverse.local.eml\n" in shown
    assert "To: hanako@example.jp\n" in shown
    assert "Subject: お申し込みを承りました（R12345-67890）\n" in shown
    assert "\n\n山田 花子様\n\n受付番号: R12345-67890\n" in shown


def test_an_empty_folder_says_so(tmp_path, capsys):
    assert eml.main([str(tmp_path)]) == 1
    assert "no .eml files" in capsys.readouterr().err
