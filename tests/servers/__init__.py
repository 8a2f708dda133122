"""Local stand-ins for outside services, each a pytest plugin that the root conftest.py registers.

- `tests.servers.openai_server`: an OpenAI-compatible model server (fixtures `openai_server`,
  `openai_server_factory`, `gateway_on_openai_server`); its module docstring documents the API.
- `tests.servers.local_discord`: a protocol-faithful local Discord (fixture `local_discord`).
"""
