"""Game integrations: variables, scenarios, action sets, start states and ROMs."""

from emurl.games.integration import (
    Integration,
    canonical_name,
    data_dir,
    integration_folders,
    list_games,
    load_integration,
    load_integration_folder,
)
from emurl.games.scenario import Scenario, load_scenario
from emurl.games.variables import Variable

__all__ = [
    "Integration",
    "Scenario",
    "Variable",
    "canonical_name",
    "data_dir",
    "integration_folders",
    "list_games",
    "load_integration",
    "load_integration_folder",
    "load_scenario",
]
