"""What a technique's text and declarations say about the safety profile's risks.

These checks **explain**; they do not enforce. A local technique runs in the sandbox
(:mod:`drillbook.executors.sandbox`), where the kernel enforces the profile whatever the
text says: text loses to ``c''url``, base64 piped to ``sh`` or a ``python3 -c`` line. So
for a contained technique only declarations refuse (:func:`contained_refusal`: the atomic
says ``elevation_required``, the plan says ``network: true``); the text findings are shown
by ``drill validate`` ("this would need network"). Where nothing contains a technique (a
plan with ``sandbox: none``, a cloud technique) the text checks are all that
stands, and :func:`refusal` applies them, plainly labelled as such.

Every technique is assessed from its command text (and the plan's explicit flags) for
three risks the seed's production profile cares about:

* **elevation**: the atomic says ``elevation_required``, or the text calls sudo/su/doas/
  pkexec; refused unless ``elevation_allowed: true``;
* **network**: the text calls a tool that sends traffic (curl, wget, nc, ssh, scp, ping,
  dig, nslookup, ...), opens ``/dev/tcp``, or names a URL, or the plan says
  ``network: true``; refused unless ``network_allowed: true``. ``network: false`` cannot
  hide what the text shows;
* **destruction without cleanup**: the text deletes or irreversibly changes data (rm,
  shred, truncate, dd, mkfs, history -c, chmod/chown/chattr, overwriting redirection, ...)
  and the technique has no cleanup; refused unless ``destructive_actions_allowed: true``.

The checks read text, so they are conservative (``echo curl`` counts as network). That is
the right way round for a drill: a false refusal costs a plan edit, a false pass costs an
incident. A refusal names the rule and the words that triggered it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from drillbook.domain.drill.plan import SafetyProfile

# start of a command word, optionally written as a path (/usr/bin/curl, ./nc, bin/rm)
_W = r"(?<![\w./$-])(?:[\w.-]*/)*"
_E = r"(?![\w-])"  # end of a command word


def _words(*names: str) -> re.Pattern[str]:
    return re.compile(_W + "(" + "|".join(names) + ")" + _E)


ELEVATION = _words("sudo", "su", "doas", "pkexec", "run0")
NETWORK = _words(
    "curl",
    "wget",
    "nc",
    "ncat",
    "netcat",
    "socat",
    "ssh",
    "scp",
    "sftp",
    "sshpass",
    "rsync",
    "ftp",
    "tftp",
    "telnet",
    "ping",
    "ping6",
    "dig",
    "nslookup",
    "host",
    "nmap",
    "masscan",
    "whois",
    "aws",
    "gcloud",
    "az",
    "kubectl",
    "git",
    "pip",
    "apt-get",
    "apt",
    "yum",
    "dnf",
    "npm",
    "docker",
)
NETWORK_PATHS = re.compile(
    r"/dev/(tcp|udp)/|\b(?:https?|ftp|ldap|smb)://|"
    r"\bimport\s+(?:socket|urllib|requests|http\.client)\b|\bIO::Socket\b|\bfsockopen\b",
    re.IGNORECASE,
)
DESTRUCTIVE = _words(
    "rm",
    "rmdir",
    "shred",
    "unlink",
    "truncate",
    "dd",
    r"mkfs(?:\.\w+)?",
    "wipefs",
    "mv",
    "chmod",
    "chown",
    "chgrp",
    "chattr",
    "chflags",
    "userdel",
    "groupdel",
    "deluser",
    "kill",
    "pkill",
    "killall",
    "srm",
    "fdisk",
    "parted",
)
DESTRUCTIVE_PHRASES = re.compile(
    r"history\s+-c|ln\s+-[a-z]*f|crontab\s+-r|sed\s+-i|iptables\s+-F|"
    r"systemctl\s+(?:stop|disable|mask)|unset\s+HISTFILE|HISTFILESIZE=0"
)
# `> file` overwrites; `>>` appends; `2>/dev/null` and `>&2` are harmless.
OVERWRITE = re.compile(r"(?<![>&\d])>(?![>&|])\s*([^\s;|&)]+)")
HARMLESS_TARGETS = {"/dev/null", "/dev/stdout", "/dev/stderr", "/dev/tty"}


@dataclass(frozen=True)
class Assessment:
    """What a technique's text and flags say about its risks (with the words found)."""

    elevation: list[str] = field(default_factory=list)
    network: list[str] = field(default_factory=list)
    destructive: list[str] = field(default_factory=list)
    has_cleanup: bool = False
    destructive_by_design: bool = False  # e.g. Stratus "impact" techniques: cleanup or not


def _found(pattern: re.Pattern[str], text: str) -> list[str]:
    return sorted({m.group(0).strip() for m in pattern.finditer(text)})


def strip_comments(text: str) -> str:
    """Shell text without ``#`` comments, so a comment cannot trigger (or hide) a rule.

    A ``#`` starts a comment only where the shell says so: at the start of a word and
    outside quotes. So ``echo " # "; curl x`` keeps its ``curl``, and a line that starts
    with ``#`` inside a multi-line quoted string is kept. Unbalanced quotes keep the rest
    of the text: reading too much is the safe side.
    """
    out: list[str] = []
    quote: str | None = None
    word_start = True
    i = 0
    while i < len(text):
        ch = text[i]
        if quote is None and ch == "#" and word_start:
            end = text.find("\n", i)
            if end == -1:
                break
            i = end  # keep the newline
            continue
        if ch == "\\" and quote != "'" and i + 1 < len(text):
            out.append(text[i : i + 2])
            i += 2
            word_start = False
            continue
        if quote is None and ch in "'\"":
            quote = ch
        elif ch == quote:
            quote = None
        out.append(ch)
        word_start = quote is None and ch in " \t\n;&|()"
        i += 1
    return "".join(out)


def assess(
    command: str,
    cleanup: str | None = None,
    *,
    elevation_required: bool = False,
    network: bool | None = None,
    extra_commands: tuple[str, ...] = (),
    destructive_by_design: str | None = None,
) -> Assessment:
    """Assess a technique; ``extra_commands`` are other texts that will run (prereqs)."""
    text = strip_comments(command)
    everything = "\n".join(strip_comments(t) for t in (command, cleanup or "", *extra_commands))
    elevation = _found(ELEVATION, everything)
    if elevation_required:
        elevation.insert(0, "elevation_required")
    network_words = _found(NETWORK, everything) + _found(NETWORK_PATHS, everything)
    if network:
        network_words.insert(0, "network: true")
    destructive = _found(DESTRUCTIVE, text) + _found(DESTRUCTIVE_PHRASES, text)
    destructive += [
        f"> {m.group(1)}" for m in OVERWRITE.finditer(text) if m.group(1) not in HARMLESS_TARGETS
    ]
    if destructive_by_design:
        destructive.insert(0, destructive_by_design)
    return Assessment(
        elevation,
        network_words,
        destructive,
        has_cleanup=bool(cleanup and cleanup.strip()),
        destructive_by_design=bool(destructive_by_design),
    )


def contained_refusal(assessment: Assessment, profile: SafetyProfile) -> str | None:
    """Why ``profile`` refuses a technique that will run in the sandbox: only what it
    declares (the text is contained by the kernel, whatever it says)."""
    reasons = []
    if "elevation_required" in assessment.elevation and not profile.elevation_allowed:
        reasons.append(
            "declares elevation_required; the safety profile does not set elevation_allowed: "
            "true (in the sandbox it would run without any privilege)"
        )
    if "network: true" in assessment.network and not profile.network_allowed:
        reasons.append(
            "the plan declares network: true; the safety profile does not set "
            "network_allowed: true (in the sandbox it would have no network)"
        )
    return "; ".join(reasons) or None


def explanation(assessment: Assessment) -> str | None:
    """What the text suggests the technique needs, for ``drill validate`` (not enforced)."""
    parts = []
    if assessment.network:
        parts.append(f"would need network ({', '.join(assessment.network)})")
    if assessment.elevation:
        parts.append(f"would need elevation ({', '.join(assessment.elevation)})")
    if assessment.destructive:
        parts.append(f"would change data ({', '.join(assessment.destructive)})")
    return "; ".join(parts) or None


def refusal(assessment: Assessment, profile: SafetyProfile) -> str | None:
    """Why ``profile`` refuses the assessed technique, or None when it may run."""
    reasons = []
    if assessment.elevation and not profile.elevation_allowed:
        reasons.append(
            f"needs elevation ({', '.join(assessment.elevation)}); "
            "the safety profile does not set elevation_allowed: true"
        )
    if assessment.network and not profile.network_allowed:
        reasons.append(
            f"sends network traffic ({', '.join(assessment.network)}); "
            "the safety profile does not set network_allowed: true"
        )
    if assessment.destructive_by_design and not profile.destructive_actions_allowed:
        reasons.append(
            f"is destructive by design ({assessment.destructive[0]}); "
            "the safety profile has destructive_actions_allowed: false"
        )
    elif (
        assessment.destructive
        and not assessment.has_cleanup
        and not profile.destructive_actions_allowed
    ):
        reasons.append(
            f"deletes or changes data ({', '.join(assessment.destructive)}) and has no "
            "cleanup; the safety profile has destructive_actions_allowed: false"
        )
    return "; ".join(reasons) or None
