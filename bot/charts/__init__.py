"""Charts, drawn in a short-lived child process so the drawing library (Pillow) never
enters the long-running bot's memory."""
