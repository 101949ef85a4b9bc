from qualkg.cli import app

app()
