from reverse import create_app

app = create_app()
