"""Read the mails the file backend wrote: `python -m reverse.notifications.eml [FILE|DIR …]`
prints each one decoded (headers, then the body), oldest first; no argument reads
instance/mail/."""

from __future__ import annotations

import email
import email.policy
import sys
from pathlib import Path


def decoded(path: Path) -> str:
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    head = "\n".join(
        f"{name}: {message[name]}" for name in ("Date", "From", "To", "Subject", "Message-ID")
    )
    body = message.get_content().replace("\r\n", "\n")
    return f"==> {path.name}\n{head}\n\n{body}"


def mail_files(arguments: list[str]) -> list[Path]:
    files: list[Path] = []
    for argument in arguments or ["instance/mail"]:
        path = Path(argument)
        if path.is_dir():
            files += sorted(path.glob("*.eml"), key=lambda p: p.stat().st_mtime)
        elif path.is_file():
            files.append(path)
    return files


def main(arguments: list[str]) -> int:
    files = mail_files(arguments)
    if not files:
        print("no .eml files", file=sys.stderr)
        return 1
    print("\n\n".join(decoded(path) for path in files))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
