"""The classic incident types (second seed's library), told through the team's agents and
services so that the rehearsal touches the systems the team will open under stress."""

from __future__ import annotations

from drillbook.domain.scenario.enums import Category, Difficulty, Severity
from drillbook.planning.templates import Decision, Template

_H, _C, _M = Severity.HIGH, Severity.CRITICAL, Severity.MEDIUM
_G, _S, _X = Difficulty.GENTLE, Difficulty.STANDARD, Difficulty.HARD


def _t(
    title: str,
    severity: Severity,
    difficulty: Difficulty,
    tags: tuple[str, ...],
    situation: str,
    signals: tuple[str, ...],
    developments: tuple[str, str],
    detection: tuple[str, tuple[str, ...], tuple[str, ...]],
    containment: tuple[str, tuple[str, ...], tuple[str, ...]],
    data_at_risk: str,
    choice: str,
) -> Template:
    return Template(
        title,
        severity,
        difficulty,
        tags,
        situation,
        signals,
        developments,
        Decision(*detection),
        Decision(*containment),
        data_at_risk,
        choice,
    )


CLASSIC_TEMPLATES: dict[Category, Template] = {
    Category.DATA_EXFILTRATION: _t(
        "Data leaving through {service}",
        _C,
        _X,
        ("T1567", "T1041"),
        "{service} is one of the services {agent} calls through {tool}, hundreds of times a day.",
        (
            "A monitoring alert fires: anomalous bytes out from {service} to an external address.",
            "{tech} notices in {channel} that {service}'s egress is ten times its usual volume.",
        ),
        (
            "The transfer has run for six hours; the traffic carries responses {agent} fetched "
            "through {tool}.",
            "{service} was redeployed yesterday with a 'minor dependency update' that skipped "
            "review.",
        ),
        (
            "What left, from which system, since when?",
            ("scope first", "cut egress first"),
            (
                "Which data {tool} returned in the window",
                "Whether {service} or the agent is the source",
                "Which customers' data was in the responses",
            ),
        ),
        (
            "Take {service} offline or quarantine it?",
            ("offline", "quarantine", "egress block"),
            ("What breaks for {agent} when {service} is offline", "How to keep evidence"),
        ),
        "customer data fetched through {tool}",
        "offline vs. quarantine",
    ),
    Category.RANSOMWARE: _t(
        "Ransomware on the hosts behind {service}",
        _C,
        _X,
        ("T1486", "T1490"),
        "{service} runs on a small host group that {agent_team} also uses for {agent}'s jobs.",
        (
            "{agent} starts failing every {tool} call; {service} returns errors about unreadable "
            "files.",
            "The on-call pager fires for {service}; a ransom note appears in a shared folder.",
        ),
        (
            "Backups for {service} were last tested four months ago; one snapshot is also "
            "encrypted.",
            "A second host outside {service}'s group shows the same file extension.",
        ),
        (
            "How far has the encryption spread?",
            ("isolate now", "map first"),
            (
                "Which hosts and backups are affected",
                "Whether data was copied out before encryption",
                "Which credentials the attacker holds",
            ),
        ),
        (
            "Isolate the network segment or shut hosts down?",
            ("isolate", "shut down"),
            (
                "What {agent}'s customers lose while {service} is down",
                "Who may talk to the attacker, if anyone",
            ),
        ),
        "files on {service}'s hosts",
        "isolate vs. shut down",
    ),
    Category.INSIDER: _t(
        "An insider pulls data through {agent}",
        _H,
        _S,
        ("T1078", "T1530"),
        "{agent} gives {agent_team} read access to customer records through {tool}.",
        (
            "The audit log shows one employee asked {agent} for {customer}'s records 400 times "
            "this week.",
            "A manager in {channel} asks why a leaving colleague exported {customer}'s data.",
        ),
        (
            "HR confirms the employee resigned on Friday and starts at a competitor next month.",
            "The same account used {api_key} from a personal laptop.",
        ),
        (
            "Is this legitimate work or exfiltration?",
            ("watch quietly", "confront now"),
            (
                "What was pulled and where it went",
                "Whether the access matched the person's job",
                "Who else must know (HR, counsel)",
            ),
        ),
        (
            "Suspend the account, revoke {api_key}, or keep watching?",
            ("suspend", "revoke the key", "keep watching"),
            ("How to preserve evidence for HR and counsel", "Who decides on an employee's access"),
        ),
        "{customer}'s records",
        "suspend vs. watch",
    ),
    Category.SUPPLY_CHAIN: _t(
        "A poisoned dependency in {service}",
        _C,
        _X,
        ("T1195.002",),
        "{service} serves {tool} for {agent}; its dependencies update automatically.",
        (
            "A security advisory names a package version that {service} installed last night.",
            "{tech} sees {service} calling an unknown domain on start-up.",
        ),
        (
            "The poisoned package read environment variables, which include {api_key}.",
            "Two other internal services pinned the same version.",
        ),
        (
            "Did the malicious version run in production, and with which secrets?",
            ("roll back first", "investigate first"),
            ("Which builds and hosts pulled the version", "Which secrets were readable"),
        ),
        (
            "Roll back {service} and rotate {api_key} now, or rotate after the investigation?",
            ("rotate now", "rotate after"),
            ("What breaks when {api_key} is rotated", "Who owns the other affected services"),
        ),
        "secrets readable by {service}",
        "rotate vs. investigate",
    ),
    Category.THIRD_PARTY_BREACH: _t(
        "The vendor behind {service} was breached",
        _H,
        _S,
        ("T1199",),
        "{service} is run by a vendor; {agent} sends customer data to it through {tool}.",
        (
            "The vendor emails a breach notice: 'some customer API tokens may have been accessed'.",
            "A news article names the vendor behind {service}; {customer} asks in {channel} "
            "whether they are affected.",
        ),
        (
            "The vendor confirms your tenant was in scope but cannot say which records were read.",
            "The vendor's token for your account was used from an unknown address last week.",
        ),
        (
            "What did we send to the vendor, and what could the attacker read?",
            ("wait for vendor", "assume worst case"),
            ("Which data {tool} sends to {service}", "Which tokens the vendor held"),
        ),
        (
            "Cut {agent} off from {service}, or keep it and rotate tokens?",
            ("cut off", "rotate and keep"),
            ("What {agent} cannot do without {service}", "Who holds the vendor contract"),
        ),
        "data sent to {service}",
        "cut off vs. rotate",
    ),
    Category.REGULATOR_INQUIRY: _t(
        "A regulator asks about {agent}",
        _M,
        _S,
        ("governance",),
        "{agent} makes or supports decisions for {audience}; its logs live with {agent_team}.",
        (
            "A regulator's letter arrives: a complaint says {agent} mishandled personal data of "
            "{customer}'s users.",
            "Legal forwards a regulator's information request about {agent} with a 10-day "
            "deadline.",
        ),
        (
            "The complaint includes a screenshot of an answer {agent} gave last month.",
            "The logs for the period asked about were rotated after 30 days.",
        ),
        (
            "Is there an incident behind the letter, or only a complaint?",
            ("treat as incident", "treat as inquiry"),
            ("What the logs show for the date in the complaint", "Which records still exist"),
        ),
        (
            "Preserve all of {agent}'s logs now (legal hold) or only the period asked?",
            ("full legal hold", "period only"),
            ("Who signs the answer to the regulator", "What {agent_team} must stop deleting"),
        ),
        "personal data handled by {agent}",
        "legal hold vs. period only",
    ),
    Category.CREDENTIAL_LEAK: _t(
        "{api_key} leaked in public",
        _H,
        _S,
        ("T1552.001",),
        "{agent} calls {tool} with {api_key}; the key has write scope on {service}.",
        (
            "A secret scanner reports {api_key} in a public repository pushed two hours ago.",
            "{service} rejects requests from {agent}: the key hit its rate limit from unknown "
            "addresses.",
        ),
        (
            "The key was used from three unknown addresses; one of them called {tool}.",
            "The same key is pasted in a runbook shared with {customer}.",
        ),
        (
            "Was the key used by someone else, and for what?",
            ("rotate first", "read logs first"),
            ("Every call made with {api_key} since the push", "Who pushed it and from where"),
        ),
        (
            "Rotate {api_key} now and break {agent}, or rotate in the next window?",
            ("rotate now", "rotate in window"),
            ("Where else the key is configured", "Who may rotate production keys"),
        ),
        "whatever {api_key} can reach",
        "rotate now vs. later",
    ),
    Category.CI_PIPELINE_COMPROMISE: _t(
        "The pipeline that deploys {agent} was compromised",
        _C,
        _X,
        ("T1195", "T1554"),
        "{agent}'s prompt, tools and keys are deployed by a CI pipeline owned by {agent_team}.",
        (
            "A deploy of {agent} ran at 03:12 with no matching commit.",
            "{tech} notices in {channel} that {agent}'s job description changed overnight.",
        ),
        (
            "The pipeline's runner had {api_key} in its environment; the log shows it printed.",
            "The changed job description tells {agent} to call {tool} for every conversation.",
        ),
        (
            "What did the attacker change, and what did it run?",
            ("freeze CI", "diff first"),
            ("Which deploys ran without a commit", "Which secrets the runner held"),
        ),
        (
            "Freeze all deploys, or roll {agent} back and keep shipping?",
            ("freeze everything", "roll back and continue"),
            ("Which runners and secrets to rebuild", "Who may freeze deploys company-wide"),
        ),
        "secrets in the pipeline and {agent}'s configuration",
        "freeze vs. roll back",
    ),
    Category.BUSINESS_EMAIL_COMPROMISE: _t(
        "A compromised mailbox talks to {customer}",
        _H,
        _S,
        ("T1114", "T1566"),
        "{agent} drafts outbound email for {agent_team}; customers trust mail from {org}.",
        (
            "{customer} asks in a call why {org} changed its bank details by email.",
            "A staff mailbox has a forwarding rule nobody created; {tech} spots it in {channel}.",
        ),
        (
            "The attacker used {agent} to draft convincing replies in the thread.",
            "{customer} already paid one invoice to the new account.",
        ),
        (
            "Which mailboxes are compromised and who received mail?",
            ("reset first", "scope first"),
            ("Which threads the attacker joined", "Whether {agent}'s drafts were abused"),
        ),
        (
            "Reset the mailbox now, or watch the attacker to learn the scope?",
            ("reset now", "watch"),
            ("Who calls {customer}'s finance team", "Whether the bank can recall the payment"),
        ),
        "{customer}'s payment and contact data",
        "reset vs. watch",
    ),
    Category.ACCOUNT_TAKEOVER: _t(
        "Admin account takeover on {agent}'s workspace",
        _H,
        _S,
        ("T1078.004",),
        "A handful of admins can change {agent}'s tools, keys and context files.",
        (
            "An admin login from an unusual country changes {agent}'s tool policy.",
            "{oncall} gets an MFA reset confirmation they never asked for.",
        ),
        (
            "The attacker added {tool} to {agent} and created a new API key.",
            "Password-reset mails show the admin reused a password from a breached site.",
        ),
        (
            "What did the attacker change while logged in?",
            ("lock first", "audit first"),
            ("Every admin action in the session", "Which keys were created"),
        ),
        (
            "Lock the admin account and revert {agent}'s config, or revoke every session?",
            ("lock and revert", "revoke all sessions"),
            ("Who can still administer {agent}", "Which changes must be reverted first"),
        ),
        "{agent}'s configuration and keys",
        "lock vs. revoke all",
    ),
    Category.DENIAL_OF_SERVICE: _t(
        "{agent} is down under a flood",
        _M,
        _G,
        ("T1499",),
        "{agent} serves {audience}; {customer} depends on it during business hours.",
        (
            "Latency alerts fire for {agent}; {service} queues are full.",
            "{customer} reports in a shared channel that {agent} stopped answering.",
        ),
        (
            "The traffic is crafted prompts that make {agent} call {tool} in loops; the model "
            "bill is climbing.",
            "A message claims responsibility and asks for payment to stop.",
        ),
        (
            "Is this load, a bug, or an attack?",
            ("rate-limit now", "diagnose first"),
            ("Where the traffic comes from", "What it costs per hour"),
        ),
        (
            "Block sources, cap {tool} calls, or take {agent} offline?",
            ("block", "cap tool calls", "offline"),
            ("What {customer} loses in each option", "Who approves spend limits"),
        ),
        "service availability for {customer}",
        "block vs. offline",
    ),
    Category.CLOUD_MISCONFIGURATION: _t(
        "A public bucket holds {agent}'s context files",
        _H,
        _G,
        ("T1530",),
        "{agent}'s context files, including {context_file}, are stored in cloud storage.",
        (
            "A researcher emails: the bucket with {context_file} is listable from the internet.",
            "A cloud posture alert flags public read on the bucket behind {agent}.",
        ),
        (
            "Access logs show downloads from two addresses last month.",
            "The bucket policy was changed during a migration by {agent_team}.",
        ),
        (
            "Who read what, and since when was it public?",
            ("lock first", "read logs first"),
            ("When the policy changed", "Which objects were downloaded"),
        ),
        (
            "Make it private now, or keep it as evidence while logging?",
            ("private now", "log first"),
            ("Whether logging was on for the whole period", "Who replies to the researcher"),
        ),
        "{context_file} and other context files",
        "private now vs. later",
    ),
    Category.VULNERABILITY_DISCLOSURE: _t(
        "A researcher reports a flaw in {agent}",
        _M,
        _G,
        ("disclosure",),
        "{agent} is reachable by {audience}; {service} sits behind it.",
        (
            "A researcher emails security@: a crafted request makes {agent} call {tool} for "
            "another tenant. They plan to publish in 30 days.",
            "A bug-bounty report says {agent} leaks other tenants' data through {tool}.",
        ),
        (
            "The researcher sends a proof of concept that touched {customer}'s tenant.",
            "A second report of the same flaw arrives from someone else.",
        ),
        (
            "Is the flaw real, and was it used before the report?",
            ("reproduce first", "check logs first"),
            ("Whether the proof of concept works today", "Whether logs show earlier use"),
        ),
        (
            "Disable {tool} until fixed, or ship a fix behind a flag?",
            ("disable the tool", "fix behind a flag"),
            ("Who answers the researcher and when", "What the fix date will be"),
        ),
        "other tenants' data behind {tool}",
        "disable vs. fix",
    ),
    Category.DETECTION_FAILURE: _t(
        "Nobody was alerted: {agent}'s logs went quiet",
        _M,
        _S,
        ("detection",),
        "{agent}'s audit events flow to the SIEM; alerts land in {channel}.",
        (
            "{customer} reports odd answers from {agent} last week; no alert fired.",
            "A drill shows that {tool} calls have not reached the SIEM for twelve days.",
        ),
        (
            "A log-shipping config change broke {agent}'s audit feed twelve days ago.",
            "In the missing window {tool} was called from an unknown session.",
        ),
        (
            "What happened in the twelve days nobody could see?",
            ("rebuild the timeline", "fix the feed first"),
            ("Which sources still hold the events", "What the unknown session did"),
        ),
        (
            "Restore the feed now and replay, or start from {service}'s own logs?",
            ("restore and replay", "use source logs"),
            ("Which alerts must be re-run on the gap", "Who owns the log pipeline"),
        ),
        "events from the twelve-day gap",
        "replay vs. source logs",
    ),
    Category.OTHER: _t(
        "An unexplained change in {agent}'s behaviour",
        _M,
        _G,
        ("general",),
        "{agent} (owned by {agent_team}) calls {tool} through {service}.",
        (
            "{customer} reports that {agent} started behaving differently this morning.",
            "{tech} notices in {channel} that {agent}'s answers changed overnight.",
        ),
        (
            "Nobody can name the change; the last deploy was a week ago.",
            "{service} shows a configuration update by an unknown account.",
        ),
        (
            "Is this an incident?",
            ("declare", "watch for an hour"),
            ("What changed and who changed it", "Whether customers were harmed"),
        ),
        (
            "Roll {agent} back to last week's config, or keep it and investigate?",
            ("roll back", "keep and investigate"),
            ("What a rollback loses", "Who approves a rollback"),
        ),
        "whatever {agent} touched since the change",
        "roll back vs. investigate",
    ),
}
