"""The three agent incidents of the first seed: wrong-team exposure, improper tool fire,
prompt injection that worked."""

from __future__ import annotations

from drillbook.domain.scenario.enums import Category, Difficulty, Severity
from drillbook.planning.templates import Decision, Template

AGENT_TEMPLATES: dict[Category, Template] = {
    Category.WRONG_TEAM_DATA_EXPOSURE: Template(
        title="{agent} answered with data from {other_team}",
        severity=Severity.HIGH,
        difficulty=Difficulty.GENTLE,
        tags=("LLM02", "AML.T0057"),
        situation=(
            "{agent} is owned by {agent_team} and answers {audience}. It can reach data of "
            "more than one team, and {context_file} is attached to it."
        ),
        signals=(
            "{customer} sends a screenshot to support: {agent} answered their question with "
            "content that belongs to {other_team}.",
            "A user on {agent_team} posts in {channel}: {agent} quoted a document of "
            "{other_team} that they have never been given access to.",
        ),
        developments=(
            "The audit log shows {context_file} was attached to {agent} nine days ago, in a "
            "configuration change nobody on {agent_team} remembers approving.",
            "The same API key ({api_key}) is used by another agent; nobody can say today which "
            "teams that key was scoped to.",
        ),
        detection=Decision(
            question="Is this one bad answer or a configuration that has been leaking for days?",
            options=(
                "treat as a single answer",
                "treat as an exposure since the last config change",
            ),
            figure_out=(
                "Which context file, team or key put data of {other_team} in reach of {agent}",
                "Since when the configuration has been in place",
                "Who else asked {agent} questions in that window",
            ),
        ),
        containment=Decision(
            question="Detach the context file, pause {agent}, or revoke {api_key}?",
            options=("detach the file", "pause the agent", "revoke the key"),
            figure_out=(
                "Which of the three stops the exposure without destroying the audit trail",
                "Who has the authority to pause {agent} during business hours",
            ),
        ),
        data_at_risk="documents of {other_team} shown to the wrong people",
        containment_choice="detach vs. pause",
    ),
    Category.IMPROPER_TOOL_FIRE: Template(
        title="{agent} fired {tool} without approval",
        severity=Severity.HIGH,
        difficulty=Difficulty.STANDARD,
        tags=("LLM06", "AML.T0053"),
        situation=(
            "{agent} (owned by {agent_team}) can call {tool}, a {tool_risk} tool served by "
            "{service}. A human approval gate is {gate} on this agent."
        ),
        signals=(
            "{service} shows a burst of {tool} calls from {agent} in the last 20 minutes; "
            "{customer} is among the accounts touched.",
            "Finance asks in {channel} why {tool} ran 37 times overnight under {agent}'s key.",
        ),
        developments=(
            "The downstream system saw the calls before anyone looked at {agent}'s audit log; "
            "the tool policy allows {tool} for every conversation, not only approved ones.",
            "{customer}'s account manager forwards an angry email: their records were changed "
            "and nobody on their side asked for it.",
        ),
        detection=Decision(
            question="Is {agent} still firing {tool}, and what did each call change?",
            options=("stop and count first", "count while it runs"),
            figure_out=(
                "How many {tool} calls ran, for which accounts, since when",
                "Whether the approval gate was wired, bypassed or never configured",
                "Which conversation or input triggered the first call",
            ),
        ),
        containment=Decision(
            question="Disable {tool} for {agent}, pause the agent, or revoke {api_key}?",
            options=("disable the tool", "pause the agent", "revoke the key"),
            figure_out=(
                "Whether the wrong calls can be reversed in {service}, and by whom",
                "What stops working for customers when {agent} is paused",
            ),
        ),
        data_at_risk="records changed by {tool}",
        containment_choice="disable tool vs. pause agent",
        needs_tool=True,
    ),
    Category.PROMPT_INJECTION: Template(
        title="Prompt injection got past {agent}",
        severity=Severity.CRITICAL,
        difficulty=Difficulty.HARD,
        tags=("LLM01", "AML.T0051"),
        situation=(
            "{agent} answers {audience} and has {context_file} in its context. It can call "
            "{tool} through {service}."
        ),
        signals=(
            "A stranger posts a screenshot: a pasted instruction made {agent} print internal "
            "context from {context_file}. A colleague drops the link in {channel}.",
            "{customer} reports that {agent} replied with another customer's pricing after a "
            "user pasted 'ignore your job description' into the chat.",
        ),
        developments=(
            "The audit log shows the same pasted instruction from four different sessions in "
            "the last day; one of them also triggered {tool}.",
            "The screenshot has been shared widely; a journalist asks whether {org} can confirm "
            "that customer lists were exposed.",
        ),
        detection=Decision(
            question="Did the injection only leak text, or did {agent} also act through {tool}?",
            options=("text leak only", "text leak and tool calls"),
            figure_out=(
                "Which sessions carried the injected instruction",
                "What from {context_file} was printed, word for word",
                "Whether {tool} was called from an injected session",
            ),
        ),
        containment=Decision(
            question="Take {agent} offline, strip {context_file} from its context, or add a "
            "filter and keep it running?",
            options=("take offline", "strip the context file", "filter and keep running"),
            figure_out=(
                "Whether the red-team cases for {agent} covered this instruction",
                "Who decides to take a customer-facing agent offline",
            ),
        ),
        data_at_risk="internal context from {context_file}",
        containment_choice="offline vs. strip context",
    ),
}
