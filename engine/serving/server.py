"""Run one endpoint's model server: `python -m engine.serving.server CONFIG --port 8080 --processes 2`.

One process is a single uvicorn server: the fewest moving parts and the fastest start (what a serverless
endpoint wants). More processes (or `--scalable`) run uvicorn's process manager: its parent binds the port once,
its worker processes accept on that shared socket, it replaces a worker that dies, and it adds or retires a
worker on SIGTTIN / SIGTTOU, which is how the supervisor scales an endpoint without a moment of downtime.

Before anything listens, the configuration is read and every model file is checked against its sha256; a
problem is printed as one line on stderr and the process exits with status 2, so the supervisor reports the
reason instead of restarting a server that can never start.
"""

from __future__ import annotations

import argparse
import os
import sys

from .app import CONFIG_VARIABLE, EndpointApp
from .config import config_load
from .errors import EndpointConfigError

CONFIG_ERROR_EXIT = 2


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m engine.serving.server", description=__doc__.splitlines()[0])
    parser.add_argument("config", help="the endpoint's configuration (JSON)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--processes", type=int, default=1)
    parser.add_argument("--scalable", action="store_true", help="run the process manager even for one process")
    parser.add_argument("--log-level", default="warning")
    args = parser.parse_args(argv)

    import uvicorn

    os.environ[CONFIG_VARIABLE] = os.path.abspath(args.config)
    try:
        config = config_load(args.config)
        if args.processes == 1 and not args.scalable:
            app = EndpointApp(config)  # loads and checks every model
        else:
            for variant in (*config.variants, *([config.shadow] if config.shadow else [])):
                if variant.model is not None:
                    from .models import model_load

                    model_load(variant.model, variant.sha256, name=f"variant {variant.name}")
    except EndpointConfigError as error:
        print(f"endpoint not started: {error.message}", file=sys.stderr, flush=True)
        return CONFIG_ERROR_EXIT
    options = {"host": args.host, "port": args.port, "log_level": args.log_level, "access_log": False,
               "lifespan": "on", "timeout_graceful_shutdown": 10,
               # Clients and load balancers keep connections open between calls; 5 s (the default) is short.
               "timeout_keep_alive": 75}
    if args.processes == 1 and not args.scalable:
        uvicorn.run(app, **options)  # type: ignore[arg-type]
        return 0
    from uvicorn.supervisors import Multiprocess

    server_config = uvicorn.Config("engine.serving.app:app_from_environment", factory=True,
                                   workers=max(1, args.processes), **options)  # type: ignore[arg-type]
    Multiprocess(server_config, sockets=[server_config.bind_socket()]).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
