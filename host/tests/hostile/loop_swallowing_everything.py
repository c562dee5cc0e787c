class Hostile:
    def process(self, data):
        while True:
            try:
                self.spin()
            except BaseException:
                pass

    def spin(self):
        while True:
            pass
