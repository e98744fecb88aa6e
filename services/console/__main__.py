from services.console.app import load_settings
from services.runtime.service.serve import serve

if __name__ == "__main__":
    serve("console", "services.console.app:app_from_env", load_settings())
