"""The Hue-S code generator: docs/openapi.yaml -> models, services, objects, callbacks and
errors for C++, the sandbox, Python, Java, Kotlin and C#. Output goes to the build tree."""
