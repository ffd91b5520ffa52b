"""What drives a game on an emulator outside an env: start states made from JSON input
scripts (Mario Kart DS's menus are one), `emurl games check`, and ROM import (DS ROMs
recognised by their header). Knows emulators and games; no gymnasium."""
