"""Graphs of the real program for each committed stack, built once per module."""

import pytest

from tests.infra.harness import run_program

COMMITTED = ("sandbox", "example")


@pytest.fixture(scope="session")
def graphs():
    return {stack: run_program(stack) for stack in COMMITTED}


@pytest.fixture(params=COMMITTED)
def graph(request, graphs):
    return graphs[request.param]
