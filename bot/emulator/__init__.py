"""An HTTP GitHub emulator that fails closed against GitHub's OpenAPI description.

    state = GitHubState()
    state.add_installation(1, "acme")
    state.add_repo("acme/widget", installation_id=1)
    async with run_emulator(state) as emu:
        ...  # point the bot at emu.base_url; deliver with await emu.deliver(event, payload)
    state.assert_no_violations()
"""

from .payloads import Payloads
from .server import Emulator, create_app, run_emulator
from .state import GitHubState, RecordedRequest, Violation

__all__ = ["Emulator", "GitHubState", "Payloads", "RecordedRequest", "Violation", "create_app", "run_emulator"]
