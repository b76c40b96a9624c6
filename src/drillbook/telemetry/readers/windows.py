"""Windows events to the Sigma log sources SigmaHQ's rules read.

A Sigma rule names a log source (``category: registry_set``, ``service: security``),
not a channel. pySigma's ``sysmon`` and ``windows`` processing pipelines are the
reference for which events each log source means, and this module follows them:

* a Sysmon event goes to the category its EventID stands for (1 -> process_creation,
  12 -> registry_add, registry_delete and registry_event, 13 -> registry_set and
  registry_event, ...), and to ``sysmon`` (rules on the Sysmon service itself);
* PowerShell's operational channel gives ``ps_module`` (4103) and ``ps_script`` (4104),
  classic Windows PowerShell gives ``ps_classic_start`` (400),
  ``ps_classic_provider_start`` (600) and ``ps_classic_script`` (800);
* every other channel goes to the Sigma service named after it (``Security`` ->
  ``security``, Defender's operational channel -> ``windefend``, ...), or, for a channel
  no Sigma service names, to a table named after the channel;
* every Windows event also goes to ``windows`` (rules that name only the product).

The names returned are Sigma's own; the event store turns them into table names the
same way it turns a rule's log source into one.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from functools import lru_cache
from typing import Any

SYSMON_CHANNEL = "microsoft-windows-sysmon/operational"

# pySigma's sysmon pipeline: generic log source -> Sysmon EventID(s), inverted.
SYSMON_EVENT_CATEGORIES: dict[int, tuple[str, ...]] = {
    1: ("process_creation",),
    2: ("file_change",),
    3: ("network_connection",),
    4: ("sysmon_status",),
    5: ("process_termination",),
    6: ("driver_load",),
    7: ("image_load",),
    8: ("create_remote_thread",),
    9: ("raw_access_thread",),
    10: ("process_access",),
    11: ("file_event",),
    12: ("registry_add", "registry_delete", "registry_event"),
    13: ("registry_set", "registry_event"),
    14: ("registry_rename", "registry_event"),
    15: ("create_stream_hash",),
    16: ("sysmon_status",),
    17: ("pipe_created",),
    18: ("pipe_created",),
    19: ("wmi_event",),
    20: ("wmi_event",),
    21: ("wmi_event",),
    22: ("dns_query",),
    23: ("file_delete",),
    24: ("clipboard_capture",),
    25: ("process_tampering",),
    26: ("file_delete_detected",),
    27: ("file_block_executable",),
    28: ("file_block_shredding",),
    29: ("file_executable_detected",),
    255: ("sysmon_error",),
}

# pySigma's windows pipeline: Sigma service -> Windows event log channel(s).
SERVICE_CHANNELS: dict[str, tuple[str, ...]] = {
    "security": ("Security",),
    "application": ("Application",),
    "system": ("System",),
    "sysmon": ("Microsoft-Windows-Sysmon/Operational",),
    "powershell": ("Microsoft-Windows-PowerShell/Operational", "PowerShellCore/Operational"),
    "powershell-classic": ("Windows PowerShell",),
    "taskscheduler": ("Microsoft-Windows-TaskScheduler/Operational",),
    "wmi": ("Microsoft-Windows-WMI-Activity/Operational",),
    "dns-server": ("DNS Server",),
    "dns-server-audit": ("Microsoft-Windows-DNS-Server/Audit",),
    "dns-server-analytic": ("Microsoft-Windows-DNS-Server/Analytical",),
    "driver-framework": ("Microsoft-Windows-DriverFrameworks-UserMode/Operational",),
    "ntlm": ("Microsoft-Windows-NTLM/Operational",),
    "dhcp": ("Microsoft-Windows-DHCP-Server/Operational",),
    "msexchange-management": ("MSExchange Management",),
    "applocker": (
        "Microsoft-Windows-AppLocker/MSI and Script",
        "Microsoft-Windows-AppLocker/EXE and DLL",
        "Microsoft-Windows-AppLocker/Packaged app-Deployment",
        "Microsoft-Windows-AppLocker/Packaged app-Execution",
    ),
    "printservice-admin": ("Microsoft-Windows-PrintService/Admin",),
    "printservice-operational": ("Microsoft-Windows-PrintService/Operational",),
    "codeintegrity-operational": ("Microsoft-Windows-CodeIntegrity/Operational",),
    "smbclient-security": ("Microsoft-Windows-SmbClient/Security",),
    "smbserver-connectivity": ("Microsoft-Windows-SMBServer/Connectivity",),
    "firewall-as": ("Microsoft-Windows-Windows Firewall With Advanced Security/Firewall",),
    "bits-client": ("Microsoft-Windows-Bits-Client/Operational",),
    "windefend": ("Microsoft-Windows-Windows Defender/Operational",),
    "terminalservices-localsessionmanager": (
        "Microsoft-Windows-TerminalServices-LocalSessionManager/Operational",
    ),
    "microsoft-servicebus-client": ("Microsoft-ServiceBus-Client",),
    "ldap": ("Microsoft-Windows-LDAP-Client/Debug",),
    "ldap_debug": ("Microsoft-Windows-LDAP-Client/Debug",),
    "security-mitigations": (
        "Microsoft-Windows-Security-Mitigations/Kernel Mode",
        "Microsoft-Windows-Security-Mitigations/User Mode",
    ),
    "diagnosis-scripted": ("Microsoft-Windows-Diagnosis-Scripted/Operational",),
    "shell-core": ("Microsoft-Windows-Shell-Core/Operational",),
    "openssh": ("OpenSSH/Operational",),
    "bitlocker": ("Microsoft-Windows-BitLocker/BitLocker Management",),
    "vhdmp": ("Microsoft-Windows-VHDMP/Operational",),
    "appxdeployment-server": ("Microsoft-Windows-AppXDeploymentServer/Operational",),
    "lsa-server": ("Microsoft-Windows-LSA/Operational",),
    "appxpackaging-om": ("Microsoft-Windows-AppxPackaging/Operational",),
    "dns-client": ("Microsoft-Windows-DNS Client Events/Operational",),
    "appmodel-runtime": ("Microsoft-Windows-AppModel-Runtime/Admin",),
    "capi2": ("Microsoft-Windows-CAPI2/Operational",),
    "certificateservicesclient-lifecycle-system": (
        "Microsoft-Windows-CertificateServicesClient-Lifecycle-System/Operational",
    ),
    "iis-configuration": ("Microsoft-IIS-Configuration/Operational",),
}

# pySigma's windows pipeline: PowerShell categories are a service plus an EventID.
CATEGORY_EVENTS: dict[tuple[str, int], str] = {
    ("powershell", 4103): "ps_module",
    ("powershell", 4104): "ps_script",
    ("powershell-classic", 400): "ps_classic_start",
    ("powershell-classic", 600): "ps_classic_provider_start",
    ("powershell-classic", 800): "ps_classic_script",
}

CHANNEL_SERVICES: dict[str, tuple[str, ...]] = {}
for _service, _channels in SERVICE_CHANNELS.items():
    for _channel in _channels:
        CHANNEL_SERVICES.setdefault(_channel.lower(), ())
        CHANNEL_SERVICES[_channel.lower()] += (_service,)

PRODUCT = "windows"


def event_id(event: Mapping[str, Any]) -> int | None:
    """The event's EventID as a number (EVTX JSON may hold it as text)."""
    value = event.get("EventID")
    try:
        return int(value) if value is not None and not isinstance(value, bool) else None
    except (TypeError, ValueError):
        return None


def channel_table(channel: str) -> str:
    """The table for a channel no Sigma service names (lower-case, punctuation -> ``_``)."""
    return "".join(c if c.isalnum() else "_" for c in channel.lower())


def is_windows_event(event: Mapping[str, Any]) -> bool:
    """A flat event that came from a Windows event log (it names its channel and id)."""
    return "Channel" in event and "EventID" in event


def windows_logsources(event: Mapping[str, Any]) -> tuple[str, ...]:
    """Every Sigma log source (category or service) whose rules read this event."""
    return routes(str(event.get("Channel") or ""), event_id(event))


@lru_cache(maxsize=4096)
def routes(channel: str, number: int | None) -> tuple[str, ...]:
    """The log sources of a channel and EventID (cached: logs repeat a few pairs)."""
    found: list[str] = []
    services = CHANNEL_SERVICES.get(channel.lower(), ())
    if channel.lower() == SYSMON_CHANNEL and number is not None:
        found.extend(SYSMON_EVENT_CATEGORIES.get(number, ()))
    for service in services:
        category = CATEGORY_EVENTS.get((service, number or -1))
        if category is not None:
            found.append(category)
    found.extend(services)
    if not services and channel:
        found.append(channel_table(channel))
    found.append(PRODUCT)
    return tuple(dict.fromkeys(found))


def known_channels_to(tables: Collection[str]) -> set[str]:
    """The channels (lower case) that Sigma services or categories name whose events go
    to one of these tables (names as :func:`table_name` spells them) for some EventID,
    besides ``windows``, where every event goes. An event of any other channel goes
    only to the table named after its channel (see :func:`routes`)."""
    from drillbook.telemetry.readers.fields import table_name

    numbers: set[int | None] = {None, *SYSMON_EVENT_CATEGORIES}
    numbers.update(number for _, number in CATEGORY_EVENTS)
    found: set[str] = set()
    for channel in (*CHANNEL_SERVICES, SYSMON_CHANNEL):
        for number in numbers:
            names = routes(channel, number)
            if any(name != PRODUCT and table_name(name) in tables for name in names):
                found.add(channel)
    return found
