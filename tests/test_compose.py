"""docker-compose.yml, checked without a Docker engine: services, images, ports, volumes, and that
every QUALKG_* variable the api service sets is a setting qualkg actually reads."""

from __future__ import annotations

from pathlib import Path

import yaml

from qualkg.settings import Settings

ROOT = Path(__file__).parents[1]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_services_and_images() -> None:
    services = COMPOSE["services"]
    assert set(services) == {"neo4j", "fuseki", "api"}
    assert services["neo4j"]["image"].startswith("neo4j:5.26")
    assert "fuseki" in services["fuseki"]["image"]
    assert services["api"]["build"] == "." and (ROOT / "Dockerfile").is_file()


def test_ports_only_on_loopback_and_volumes_declared() -> None:
    for name, service in COMPOSE["services"].items():
        for port in service.get("ports", []):
            assert port.startswith("127.0.0.1:"), f"{name} publishes {port} beyond loopback"
        for volume in service.get("volumes", []):
            assert volume.split(":")[0] in COMPOSE["volumes"]
    assert all("healthcheck" in s for s in COMPOSE["services"].values())


def test_api_environment_is_what_settings_read() -> None:
    env = COMPOSE["services"]["api"]["environment"]
    fields = {f"QUALKG_{name.upper()}" for name in Settings.model_fields}
    assert set(env) <= fields, set(env) - fields
    assert env["QUALKG_STORE"] == "sparql" and env["QUALKG_SPARQL_QUERY_URL"].startswith("http://fuseki:3030/")
    assert env["QUALKG_NEO4J_URI"] == "bolt://neo4j:7687"


def test_no_secret_in_the_file() -> None:
    text = (ROOT / "docker-compose.yml").read_text()
    assert "${NEO4J_PASSWORD" in text and "${FUSEKI_ADMIN_PASSWORD" in text
    neo4j_auth = COMPOSE["services"]["neo4j"]["environment"]["NEO4J_AUTH"]
    assert neo4j_auth.startswith("neo4j/${")
