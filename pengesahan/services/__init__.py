"""Use cases, one module per family; web, admin, the API, the CLI and the jobs call these.

Every state change and its audit entry happen here. Importing the package subscribes the
side effects (webhooks) to the events the services fire."""

from pengesahan.services import webhooks  # noqa: F401 - subscribes webhook emission to events
