"""Serving through deployments: live versions, their lifecycle, customer lookup, recommend."""
