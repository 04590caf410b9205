"""Stand-ins for the Windows modules keyring's Windows backend uses, for tests on any platform.

A package (imported as `wincred.pywintypes`), not a top-level `pywintypes`, so it can never shadow
the real pywin32 module on a Windows machine that runs the tests.
"""
