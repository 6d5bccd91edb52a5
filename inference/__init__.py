"""The AI core: photo -> description -> persona -> first line -> talking picture, and replies."""
