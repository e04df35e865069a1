"""Fonts, icons and stylesheets shipped with KAP Console (installed as ``kapconsole.resources``)."""
