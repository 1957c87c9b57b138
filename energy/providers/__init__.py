"""Meter data providers whose APIs feed a resident's meter with their authorisation.

Each provider has a connector (``base.Connector``) registered here by its name; a connection
(``energy.models.ProviderConnection``) names the connector it uses. Adding a provider means
writing its connector and adding it to ``CONNECTORS``: the authorisation, refresh, job and API
are the same for all.
"""

from collections.abc import Mapping

from energy.providers.base import Connector
from energy.providers.enedis import Enedis

#: name → connector class, built with the app's configuration.
CONNECTORS: dict[str, type] = {Enedis.name: Enedis}


def connector_for(name: str, config: Mapping) -> Connector | None:
    """The named provider's connector, or None for a name that is not one."""
    cls = CONNECTORS.get(name)
    return cls(config) if cls is not None else None
