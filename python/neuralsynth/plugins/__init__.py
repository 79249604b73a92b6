"""Plugins: build JUCE plugins around the core, host them, and test them against the reference."""
