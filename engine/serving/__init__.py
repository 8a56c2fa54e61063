"""The model server of an endpoint and the supervisor that runs it, without Django: `app` (the ASGI
application), `server` (its command line), `supervisor` (start, watch, restart, stop, serverless starts),
`autoscaling` (how many processes a load needs)."""

from .autoscaling import ScalingPolicy, desired_processes
from .config import EndpointConfig, config_load, config_parse, token_hash
from .errors import EndpointConfigError, ServingError

__all__ = ["EndpointConfig", "EndpointConfigError", "ScalingPolicy", "ServingError", "config_load", "config_parse",
           "desired_processes", "token_hash"]
