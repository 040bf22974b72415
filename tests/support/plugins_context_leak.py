"""A context action imported by name at the module's top level: it leaks as a global action."""

from plugins_context_leak_actions import describe_leak

import beakerlike


@beakerlike.hookimpl
def register_contexts(register):
    register(beakerlike.Context(name="leaky", actions=[describe_leak]))
