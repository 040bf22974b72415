"""A plugin declaring broken actions next to a good one."""

from beakerlike import hookimpl


def no_request_param():
    return 1


def good_one(req) -> str:
    return "fine"


@hookimpl
def register_actions(register):
    register(no_request_param)  # no `req` parameter
    register(good_one, name="bad name!")  # invalid name
    register(42)  # not a function
    register(good_one, name="broken_plugin_good")
