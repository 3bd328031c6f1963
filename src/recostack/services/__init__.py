"""Services: what the API, the CLI and the worker do with the store and the serving layer.

A service function or method is one use case (create a deployment,
promote a model, record a response), one transaction, whatever calls it.
"""
