"""Real services for tests, each a context-managed child process on a free loopback port.

Used by the fixtures in ``tests/conftest.py``; usable directly too::

    with RedisServer(tmp_path) as server:
        server.client().ping()
"""

from tests.services.process import ServiceError, ServiceProcess, free_port
from tests.services.redis_server import RedisServer
from tests.services.s3_server import S3Server
from tests.services.secret_service import SecretService

__all__ = [
    "RedisServer",
    "S3Server",
    "SecretService",
    "ServiceError",
    "ServiceProcess",
    "free_port",
]
